"""Twilio's ``postFeedback(score, issue)``: how a call went, as the scenario judged it.

Kept on the session (``VoxEngine.feedback``) and logged as one ``call_feedback`` line, which is
what a log pipeline counts; there is no Twilio service to post it to.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.errors import InvalidArgumentError
from voxpy.runtime import args

ISSUES = frozenset(
    {"audio-latency", "choppy-audio", "dropped-call", "echo", "noisy-call", "one-way-audio"}
)
"Twilio's feedback issues."


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """One ``post_feedback``: ``score`` 1 (worst) to 5, None when not given; ``issue`` one of
    :data:`ISSUES` or None; ``at`` the session clock's time."""

    score: int | None
    issue: str | None
    at: float


def feedback(score: object, issue: object, at: float) -> Feedback:
    """Check the arguments as Twilio does (score 1-5 or none, a known issue or none)."""
    checked = None if score is None else args.integer("post_feedback", "score", score, 1, 5)
    if issue is not None and not (isinstance(issue, str) and issue in ISSUES):
        raise InvalidArgumentError(
            f"post_feedback: issue must be one of {', '.join(sorted(ISSUES))}, got {issue!r}"
        )
    return Feedback(score=checked, issue=issue, at=at)
