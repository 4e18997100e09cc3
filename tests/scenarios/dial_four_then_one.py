"""Place 4 legs, then try a 5th: call_sip must refuse it with CapacityError."""

from voxpy import AppEvents, CapacityError, VoxEngine

results = []


def on_started(e):
    target = VoxEngine.custom_data()
    for _ in range(4):
        VoxEngine.call_sip(target)
    try:
        VoxEngine.call_sip(target)
    except CapacityError as exc:
        results.append(str(exc))
        VoxEngine.set_timeout(VoxEngine.terminate, 0.01)


VoxEngine.add_event_listener(AppEvents.Started, on_started)
