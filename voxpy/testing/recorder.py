"""Records every event an engine dispatches, to assert whole histories."""

from __future__ import annotations

from typing import Any

from voxpy.runtime.session import Session


class Recorder:
    """An engine observer keeping ``(session, event)`` pairs in dispatch order."""

    def __init__(self) -> None:
        self.log: list[tuple[Session, Any]] = []

    def __call__(self, session: Session, event: Any) -> None:
        self.log.append((session, event))

    def events(
        self, call_id: str | None, *, state_changes: bool = False, texts: bool = False
    ) -> list[str]:
        """Names of the call events of one leg, in order (StateChanged left out by default);
        ``texts``: playback events carry what played, ``Call.PlaybackStarted('Hello')``."""
        return [
            _named(e, texts)
            for _, e in self.log
            if str(e.name).startswith("Call.")
            and getattr(e, "call", None) is not None
            and e.call.id() == call_id
            and (state_changes or str(e.name) != "Call.StateChanged")
        ]

    def session_events(self) -> list[str]:
        return [str(e.name) for _, e in self.log if str(e.name).startswith("Application.")]

    def of(self, name: str) -> list[Any]:
        return [e for _, e in self.log if str(e.name) == name]

    def find(self, name: str, call_id: str | None = None) -> Any:
        for _, e in self.log:
            call = getattr(e, "call", None)
            if str(e.name) == name and (call_id is None or (call and call.id() == call_id)):
                return e
        raise AssertionError(f"{name} was not dispatched; history: {self.describe()}")

    # Waiting lives in ScenarioHarness.wait_event, which also moves the virtual clock.

    def describe(self) -> str:
        rows = []
        for _, e in self.log:
            call = getattr(e, "call", None)
            rows.append(f"{e.name}" + (f"[{call.id()[:8]}]" if call is not None else ""))
        return ", ".join(rows) or "(no events)"


def _named(event: Any, texts: bool) -> str:
    name = str(event.name)
    if texts and name.startswith("Call.Playback"):
        what = getattr(event, "text", None) or getattr(event, "source", None)
        return f"{name}({what!r})" if what is not None else name
    return name
