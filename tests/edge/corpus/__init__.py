"""The hostile-input corpus: raw SIP requests and what a ``voxpy run`` worker must answer.

Every entry is a byte template for :func:`tests.edge.rawsip.send` (``$HOST``/``$PORT`` the
worker, ``$LHOST``/``$LPORT`` our socket, ``$BRANCH``, ``$CALLID``, ``$TAG``, ``$RTPPORT``,
``$TRANSPORT``/``$TPARAM``, ``$CL`` the body length) and the set of acceptable outcomes: status
codes, or ``DROPPED`` (no final answer in time).

Groups:

* ``RFC4475``: the SIP torture messages (RFC 4475), rewritten from the RFC's examples so that the
  top Via, Contact and SDP addresses are ours (127.0.0.1) and nothing is ever sent elsewhere;
  what is tortured (whitespace, escaping, scalars, duplicated headers...) is kept.
* ``RFC5118``: IPv6 torture (RFC 5118): IPv6 in URIs, Via and SDP. This build has no IPv6
  transport: IPv6 SDP must get 488 (policy) and nothing may abort.
* ``POLICY``: one request per row of the edge-guard policy table (methods, CSeq, Min-SE...).
* ``MUTATIONS``: PROTOS-style single-field mutations of a base INVITE: each header field in turn
  gets an empty, overlong, format-string, non-UTF-8, huge-number or control-character value.
* ``SPECIALS``: oversize (5000-byte UDP and TCP), 70 Via, 70 Record-Route, long c=/o=.

``guard`` lists the codes that, when received, must come from the edge guard: one
``edge_refused`` log line with that code and our source address, a ``Server`` header and no
``Warning``. Codes pjsip answers by itself (its parser's 400) are accepted without a log line:
the guard cannot see a message pjsip failed to parse.
"""

from __future__ import annotations

from tests.edge.corpus.base import BASE_HEADERS, DROPPED, Case, case, request
from tests.edge.corpus.mutations import MUTATIONS
from tests.edge.corpus.policy import POLICY
from tests.edge.corpus.rfc4475_invalid import RFC4475_INVALID
from tests.edge.corpus.rfc4475_refused import RFC4475_REFUSED
from tests.edge.corpus.rfc4475_valid import RFC4475_VALID
from tests.edge.corpus.rfc5118 import RFC5118
from tests.edge.corpus.specials import SPECIALS

RFC4475: list[Case] = RFC4475_VALID + RFC4475_INVALID + RFC4475_REFUSED
GROUPS: dict[str, list[Case]] = {
    "rfc4475": RFC4475,
    "rfc5118": RFC5118,
    "policy": POLICY,
    "mutations": MUTATIONS,
    "specials": SPECIALS,
}
ALL: list[Case] = [c for group in GROUPS.values() for c in group]


__all__ = [
    "ALL",
    "BASE_HEADERS",
    "DROPPED",
    "GROUPS",
    "MUTATIONS",
    "POLICY",
    "RFC4475",
    "RFC5118",
    "SPECIALS",
    "Case",
    "case",
    "request",
]
