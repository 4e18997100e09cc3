"""What a key means to `voxpy dial`, and its ``--keys`` script language (pure: no I/O).

The same keys work typed at the terminal and written in a script:

========  =========================================================================
key       action
========  =========================================================================
0-9 * #   a DTMF digit (RFC 2833), also A-D
h         hang up (Ctrl-D too, at the terminal)
o / O     hold (re-INVITE sendonly) / take off hold
i         send a SIP INFO (text/plain "voxpy dial")
w         (script) wait until the prompt playing now, or one starting within 1 s,
          has finished; 1 s when no prompt plays. Over SIP prompts are told by ear
          (speech starts one, 600 ms of quiet ends it) and given 3 s to start
wN        (script) wait N seconds (``w2``, ``w0.5``)
========  =========================================================================

A script is words separated by spaces; a word is a wait (``w``, ``w2``) or a run of keys
(``12#``). ``"1 w2 #"`` presses 1, waits 2 s, presses #. Anything else is refused with the
word and the key named, before any call is placed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from voxpy.errors import InvalidArgumentError

DIGITS = frozenset("0123456789*#ABCD")
Command = Literal["hangup", "hold", "unhold", "info"]
COMMANDS: dict[str, Command] = {
    "h": "hangup",
    "\x04": "hangup",  # Ctrl-D
    "o": "hold",
    "O": "unhold",
    "i": "info",
}
PROMPT_WAIT = 1.0
"Seconds a bare ``w`` waits for a prompt to start, and waits in all when none does (memory)."
_WAIT = re.compile(r"w(\d+(?:\.\d+)?)?")
_TYPED = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O.|.)?|.", re.S)
"One key as typed: an escape sequence (an arrow is ESC [ A) or one character."


@dataclass(frozen=True, slots=True, kw_only=True)
class Digit:
    digit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Act:
    command: Command


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    seconds: float | None
    "None: until the prompt ends (see the module's table)."


Action = Digit | Act | Wait


def key_action(key: str) -> Action | None:
    """The action of one key typed at the terminal; None for a key that means nothing (the
    caller says so and carries on)."""
    if key in DIGITS:
        return Digit(digit=key)
    command = COMMANDS.get(key)
    return Act(command=command) if command is not None else None


def split_keys(typed: str) -> list[str]:
    """What the terminal sent, key by key: an arrow or function key stays one (unknown) key
    rather than becoming ESC, ``[`` and the DTMF digit ``A``."""
    return _TYPED.findall(typed)


def parse_script(script: str) -> list[Action]:
    """The actions of a ``--keys`` script; raises InvalidArgumentError naming the first bad word."""
    actions: list[Action] = []
    for word in script.split():
        wait = _WAIT.fullmatch(word)
        if wait is not None:
            actions.append(Wait(seconds=float(wait[1]) if wait[1] else None))
            continue
        for key in word:
            action = key_action(key) if key != "\x04" else None
            if action is None:
                raise InvalidArgumentError(
                    f"unknown key {key!r} in --keys word {word!r} (keys: 0-9 * # A-D, "
                    "h hang up, o hold, O unhold, i INFO; waits: w, wN)"
                )
            actions.append(action)
    return actions


def describe(action: Action) -> str:
    """How the action shows in the output: ``pressed 1``, ``hold``, ``wait 2s``."""
    if isinstance(action, Digit):
        return f"pressed {action.digit}"
    if isinstance(action, Act):
        return action.command
    return "wait for the prompt" if action.seconds is None else f"wait {action.seconds:g}s"
