"""pjsua2 errors (``pj.Error``) turned into voxpy errors and SIP status codes.

Duck-typed on ``status``/``reason`` so this module does not import pjsua2. The status numbers
are pjlib/pjsip error codes as this wheel reports them (checked with ``Endpoint.utilStrError``).
"""

from __future__ import annotations

import errno

from voxpy.errors import BackendError, CapacityError

PJ_ETOOMANY = 70010
PJ_ERESOLVE = 70018
PJ_ERRNO_START_SYS = 120000
"pjlib adds this to an OS errno: EADDRINUSE (98) is reported as 120098."

PJSIP_ENOROUTESET = 171005
PJSIP_EINVALIDURI = 171039
PJSIP_EINVALIDSCHEME = 171040
PJSIP_EMISSINGREQURI = 171041
PJSIP_EINVALIDREQURI = 171042
PJSIP_EURITOOLONG = 171043
PJSIP_EUNSUPTRANSPORT = 171060
PJMEDIA_RTP_EREMNORFC2833 = 220107
"sendDtmf(RFC 2833) when the remote SDP offered no telephone-event."

NO_SUCH_CALL = "no live call with this call_id"

_BAD_URI = frozenset(
    {
        PJSIP_ENOROUTESET,
        PJSIP_EINVALIDURI,
        PJSIP_EINVALIDSCHEME,
        PJSIP_EMISSINGREQURI,
        PJSIP_EINVALIDREQURI,
        PJSIP_EURITOOLONG,
    }
)
_UNREACHABLE = frozenset(
    PJ_ERRNO_START_SYS + e for e in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED)
)


def status_of(exc: BaseException) -> int | None:
    """The pj status code carried by a ``pj.Error``, if any."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def reason_of(exc: BaseException) -> str:
    """pjsua2's one-line message for ``exc`` (``pj.Error.reason``), or ``str(exc)``."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    return str(exc) or type(exc).__name__


def to_backend_error(exc: BaseException, op: str, what: str = "") -> BackendError:
    """A BackendError for a failed pj operation; PJ_ETOOMANY becomes CapacityError."""
    status = status_of(exc)
    message = f"{what}: {reason_of(exc)}" if what else reason_of(exc)
    cls = CapacityError if status == PJ_ETOOMANY else BackendError
    return cls(message, op=op, status=status)


def dial_failure(exc: BaseException) -> tuple[int, str]:
    """The SIP code and reason to report when ``makeCall`` raised ``exc``."""
    status = status_of(exc)
    reason = reason_of(exc)
    if status == PJ_ETOOMANY:
        return 486, "Too many calls in this process"
    if status in _BAD_URI:
        return 400, reason
    if status == PJ_ERESOLVE:
        return 404, reason
    if status in _UNREACHABLE:
        return 503, reason
    return 503, reason


def listen_failure(exc: BaseException, transport: str, host: str, port: int) -> BackendError:
    """``cannot listen on udp 127.0.0.1:5060: Address already in use``."""
    where = f"{host or '0.0.0.0'}:{port}"
    return BackendError(
        f"cannot listen on {transport} {where}: {reason_of(exc)}",
        op="start",
        status=status_of(exc),
    )


def is_address_in_use(exc: BaseException) -> bool:
    """True when a transport could not bind because the port is taken."""
    return status_of(exc) == PJ_ERRNO_START_SYS + errno.EADDRINUSE
