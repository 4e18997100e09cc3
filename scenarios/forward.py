"""Forward every call to the SIP URI given as custom data, passing the caller's X- headers on.

    voxpy run scenarios/forward.py --custom-data sip:desk@10.0.0.7

The caller is answered only when the destination answers; a busy or failed destination's code
(486, 404, ...) goes back to the caller; when either side hangs up the other is hung up too.
"""

from voxpy import AppEvents, VoxEngine


def on_alerting(e):
    destination = VoxEngine.custom_data()
    if not destination:
        e.call.reject(404)
        return
    e.call.ring()
    outbound = VoxEngine.call_sip(
        destination, callerid=e.callerid, display_name=e.display_name, headers=dict(e.headers)
    )
    VoxEngine.easy_process(e.call, outbound)


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
