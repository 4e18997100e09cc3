"""VoxEngine's ``easy_process``: forward an inbound leg to an outbound one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from voxpy.core.events import CallEvents

if TYPE_CHECKING:
    from voxpy.runtime.call import Call


def easy_process(
    inbound: Call,
    outbound: Call,
    on_established: Callable[[Call, Call], Any] | None = None,
) -> None:
    """Answer ``inbound`` when ``outbound`` connects, bridge both ways, end each leg when the
    other ends; a failed outbound leg's code (4xx-6xx) is passed on to the unanswered caller."""

    def outbound_connected(_e: Any) -> None:
        if inbound.state() == "CONNECTED":
            bridge(_e)
        elif inbound.live:
            inbound.add_event_listener(CallEvents.Connected, bridge)
            inbound.answer()

    def bridge(_e: Any) -> None:
        if inbound.live and outbound.live:
            inbound.send_media_to(outbound)
            outbound.send_media_to(inbound)
            if on_established is not None:
                on_established(inbound, outbound)

    def outbound_failed(e: Any) -> None:
        if inbound.live and inbound.state() == "ALERTING":
            inbound.reject(e.code if 400 <= e.code <= 699 else 480)
        else:
            inbound.end_quietly()

    def hang_up(other: Call) -> Callable[[Any], None]:
        return lambda _e: other.end_quietly()

    outbound.add_event_listener(CallEvents.Connected, outbound_connected)
    outbound.add_event_listener(CallEvents.Failed, outbound_failed)
    outbound.add_event_listener(CallEvents.Disconnected, hang_up(inbound))
    inbound.add_event_listener(CallEvents.Disconnected, hang_up(outbound))
