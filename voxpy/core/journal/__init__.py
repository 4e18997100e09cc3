"""Session journals (issue 16), sans-I/O: the entry model, the SIP picture of a session's
commands and signals, the bounded buffer, and the ladder diagram (SVG and text).

The runtime (:mod:`voxpy.runtime.journal`) feeds it and writes the files; ``voxpy flow``
and the management API draw them with :func:`flow_svg`.
"""

from voxpy.core.journal.buffer import JournalBuffer, JournalLimits
from voxpy.core.journal.entry import (
    SESSION_LANE,
    Entry,
    as_entries,
    entry_from_json,
    make_fields,
    parse_journal,
)
from voxpy.core.journal.notes import event_entry
from voxpy.core.journal.sip import SipMapper
from voxpy.core.journal.svg import SVG_HEADERS, flow_svg, xml_text
from voxpy.core.journal.text import flow_text

__all__ = [
    "SESSION_LANE",
    "SVG_HEADERS",
    "Entry",
    "JournalBuffer",
    "JournalLimits",
    "SipMapper",
    "as_entries",
    "entry_from_json",
    "event_entry",
    "flow_svg",
    "flow_text",
    "make_fields",
    "parse_journal",
    "xml_text",
]
