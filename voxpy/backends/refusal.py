"""The one rule for a command a backend cannot run at all (not started, stopped, peer gone).

Every backend answers such a command with a signal instead of raising, so the runtime's
waiting ends the same way whichever backend refused: a Dial's leg ends with 503 (it never
existed), any other command fails with CommandFailed naming it.
"""

from __future__ import annotations

from voxpy.core.commands import Command, Dial
from voxpy.core.signals import CommandFailed, Ended, Signal


def refusal(command: Command, reason: str) -> Signal:
    """What ``command`` gets when the backend cannot run it at all."""
    if isinstance(command, Dial):
        return Ended(call_id=command.call_id, code=503, reason=reason)
    return CommandFailed(call_id=command.call_id, op=type(command).__name__, message=reason)
