"""The lanes of a ladder diagram, in order, from a journal's ``party`` entries.

Callers and their legs left of the session lane (caller outermost), outbound legs and their
callees right of it (callee outermost), in the order they appeared; a lane an entry names
without a party entry (a socket, or a journal cut short) comes last, labelled by its id.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.core.journal.entry import SESSION_LANE, Entry


@dataclass(frozen=True, slots=True, kw_only=True)
class Lane:
    id: str
    label: str
    title: str = ""
    "The tooltip: the label and what the party entry said of it (its URI)."


def lanes_of(entries: list[Entry]) -> list[Lane]:
    parties = [e for e in entries if e.kind == "party" and e.src and e.src != SESSION_LANE]
    declared: dict[str, Lane] = {}
    left: list[list[str]] = []
    right: list[list[str]] = []
    groups: dict[tuple[str, str], list[str]] = {}
    for party in parties:
        if party.src in declared:
            continue
        uri = party.field("uri")
        declared[party.src] = Lane(
            id=party.src, label=party.label, title=f"{party.label}\n{uri}".strip()
        )
        side = party.field("side", "right")
        key = (side, party.call_id or party.src)
        if key not in groups:
            groups[key] = []
            (left if side == "left" else right).append(groups[key])
        groups[key].append(party.src)
    order: list[str] = []
    for group in left:  # declared leg first, far second: the caller goes outermost
        order += sorted(group, key=lambda lane: not lane.startswith("far:"))
    order.append(SESSION_LANE)
    for group in right:
        order += sorted(group, key=lambda lane: lane.startswith("far:"))
    for entry in entries:
        for lane in (entry.src, entry.dst):
            if lane and lane not in order and entry.kind != "party":
                order.append(lane)
    named = {SESSION_LANE: Lane(id=SESSION_LANE, label="session (scenario)")}
    return [declared.get(i) or named.get(i) or Lane(id=i, label=i, title=i) for i in order]
