"""Every log event voxpy writes is named in snake_case (issue 10, item 5: one naming scheme).

Structured logs are read by machines: ``event="dial_refused"`` is a key to filter on, and a
sentence ("dial refused") is a second spelling of the same thing. Read from the source with
``ast``: the first argument of every ``.debug/.info/.warning/.error/.exception/.critical``
call that is a string literal.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "voxpy"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# stdlib ``logging`` calls with %-format strings, not structlog events.
PRINTF = re.compile(r"%[sdr]")


def log_event_names() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append(
                    (str(path.relative_to(PACKAGE.parent)), node.lineno, node.args[0].value)
                )
    return found


def test_finder_sees_log_calls() -> None:
    names = {name for _, _, name in log_event_names()}
    assert {"engine_started", "call_incoming", "edge_refused"} <= names


def test_log_events_are_snake_case() -> None:
    bad = [
        f"{path}:{line}: {name!r}"
        for path, line, name in log_event_names()
        if not SNAKE.match(name) and not PRINTF.search(name)
    ]
    assert bad == []
