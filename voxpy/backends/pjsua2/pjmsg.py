"""pjsua2 message plumbing shared by legs, dialogs and commands: headers out, messages in.

One owner for "put these headers on an outgoing request" (every command that sends SIP goes
through :func:`add_headers`) and for "which received message caused this event"; kept apart from
:mod:`.call` so that :mod:`.dialog` can use them without importing the leg that owns it.
"""

from __future__ import annotations

from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.pjtypes import SipEvent
from voxpy.core.headers import Headers


def add_headers(tx_option: Any, headers: Headers) -> None:
    """Append ``headers`` to a pjsua2 SipTxOption (of a CallOpParam, request or MESSAGE)."""
    for name, value in headers.items():
        header = pj.SipHeader()
        header.hName = name
        header.hValue = value
        tx_option.headers.append(header)


def add_contact(tx_option: Any, uri: str) -> None:
    """Put ``Contact: <uri>`` on a response (a 3xx redirect). pjsip adds the dialog's own
    Contact only to a response that has none, so this one is the only Contact sent."""
    header = pj.SipHeader()
    header.hName = "Contact"
    header.hValue = f"<{uri}>"
    tx_option.headers.append(header)


def call_op(code: int = 0, headers: Headers | None = None) -> Any:
    """A CallOpParam with a status code and extra headers."""
    op = pj.CallOpParam(True)
    op.statusCode = code
    add_headers(op.txOption, headers or Headers())
    return op


def received_message(event: SipEvent) -> str | None:
    """The raw SIP message that caused a call state change, if one was received.

    Checks the event type before reading rdata: it is a union member that is not set otherwise.
    """
    if event.type == pj.PJSIP_EVENT_TSX_STATE:
        tsx_state = event.body.tsxState
        if tsx_state.type == pj.PJSIP_EVENT_RX_MSG:
            return str(tsx_state.src.rdata.wholeMsg)
    elif event.type == pj.PJSIP_EVENT_RX_MSG:
        return str(event.body.rxMsg.rdata.wholeMsg)
    return None
