"""Media units lab (issue 14). ``custom_data`` is ``mode[:arg]``; the session dials the legs
the mode needs, to ``sip:p1@...``, ``sip:p2@...``, ... (the test kit's peer answers them), and
builds, once they are connected:

* ``conference[:D1,D2,D3]``: three legs in conference "room-1" with those directions;
* ``player:PATH``: two legs that both hear one URL player of PATH;
* ``recorder[:stereo]``: two legs bridged, both sent to one recorder (p1 first);
* ``legs``: three legs, the first two bridged (a customer and an agent), for the test to use.

Tests reach the units through the events they fire (``e.conference``, ``e.player``...).
"""

from voxpy import AppEvents, CallEvents, VoxEngine

LEGS = {"conference": 3, "player": 2, "recorder": 2, "legs": 3}


def on_started(e):
    mode, _, arg = (VoxEngine.custom_data() or "").partition(":")
    conf = VoxEngine.create_conference(name="room-1") if mode == "conference" else None
    directions = arg.split(",") if mode == "conference" and arg else ["BOTH"] * 3
    legs = {}

    def connected(ev, i):
        legs[i] = ev.call
        if conf is not None:  # by dialing order, whatever order the legs connect in
            conf.add(ev.call, direction=directions[i], display_name=f"p{i + 1}")
        elif len(legs) == 2 and mode == "player":
            player = VoxEngine.create_url_player(arg)
            player.send_media_to(legs[0])
            player.send_media_to(legs[1])
        elif len(legs) == 2 and mode == "legs":
            VoxEngine.send_media_between(legs[0], legs[1])
        elif len(legs) == 2 and mode == "recorder":
            VoxEngine.send_media_between(legs[0], legs[1])
            recorder = VoxEngine.create_recorder(stereo=arg == "stereo", name_prefix="pair-")
            legs[0].send_media_to(recorder)
            legs[1].send_media_to(recorder)

    for i in range(LEGS[mode]):
        call = VoxEngine.call_sip(f"sip:p{i + 1}@example.com")
        call.add_event_listener(CallEvents.Connected, lambda ev, i=i: connected(ev, i))


VoxEngine.add_event_listener(AppEvents.Started, on_started)
