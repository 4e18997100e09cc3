"""Secrets out of what voxpy shows: credentials in URLs never reach logs or events.

A media URL may carry a password (``https://user:secret@host/x.mp3``); the scenario passed it
to be used, not shown. Everything voxpy reports about such a URL - the playback events'
``source``, error texts, log lines - goes through :func:`mask_credentials` first.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@/\s]*@")
MASK = "***"


def mask_credentials(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` replaced by ``***``
    (the user name stays: it tells which account was used, and is rarely secret)."""
    return _USERINFO.sub(rf"\g<1>{MASK}@", text)
