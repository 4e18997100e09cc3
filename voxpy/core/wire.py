"""Signals and commands to and from JSON-ready dicts, for process boundaries and logs."""

from __future__ import annotations

import dataclasses
from typing import Any

from voxpy.core.commands import COMMAND_TYPES, Command
from voxpy.core.headers import Headers
from voxpy.core.signals import SIGNAL_TYPES, Signal
from voxpy.core.testing_commands import TESTING_COMMAND_TYPES
from voxpy.core.units import UNIT_COMMANDS

_TYPES: dict[str, type[Signal] | type[Command]] = {t.__name__: t for t in SIGNAL_TYPES}
_TYPES.update({t.__name__: t for t in COMMAND_TYPES})
# The test peer process is driven over the wire, fault injection included.
_TYPES.update({t.__name__: t for t in TESTING_COMMAND_TYPES})
# Media units, so a worker process can be driven over the wire like the test peer.
_TYPES.update({t.__name__: t for t in UNIT_COMMANDS})


def to_wire(value: Signal | Command) -> dict[str, Any]:
    """``{"type": "Answer", "call_id": ..., "headers": [[name, value], ...], ...}``."""
    out: dict[str, Any] = {"type": type(value).__name__}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        out[f.name] = [list(pair) for pair in item.items()] if isinstance(item, Headers) else item
    return out


def from_wire(data: dict[str, Any]) -> Signal | Command:
    """Inverse of :func:`to_wire`; raises ValueError on an unknown type or field."""
    kind = data.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown message type {kind!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    args = {k: v for k, v in data.items() if k != "type"}
    unknown = set(args) - known
    if unknown:
        raise ValueError(f"{kind}: unknown fields {sorted(unknown)}")
    if "headers" in args:
        args["headers"] = Headers([(str(n), str(v)) for n, v in args["headers"]])
    if isinstance(args.get("sources"), list):  # a Mix's tuple came back as a JSON list
        args["sources"] = tuple(str(s) for s in args["sources"])
    return cls(**args)
