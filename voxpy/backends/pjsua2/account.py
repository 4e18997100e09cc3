"""SIP accounts: the local identity that receives and places calls, plus credential accounts.

No account registers. The main account takes every inbound INVITE and places unauthenticated
legs. A Dial with ``auth_user``/``password`` uses an extra account that carries those digest
credentials; they are cached (least recently used first out) because the wheel allows only 8
accounts and the 9th aborts the process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.errors import reason_of, to_backend_error
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.backends.pjsua2.pjtypes import IncomingCallParam
from voxpy.backends.pjsua2.sipmsg import host_part
from voxpy.errors import BackendError

MAX_CREDENTIAL_ACCOUNTS = 4
"Plus the main account: 5 of the 8 PJSUA_MAX_ACC slots, leaving headroom."

IncomingHandler = Callable[["SipAccount", IncomingCallParam], None]


class SipAccount(pj.Account):  # type: ignore[misc]
    """A pjsua2 account whose inbound INVITEs go to the owner's handler."""

    def __init__(self, on_incoming: IncomingHandler, logger: Logger) -> None:
        super().__init__()
        self._on_incoming = on_incoming
        self._logger = logger

    def onIncomingCall(self, prm: IncomingCallParam) -> None:  # name fixed by pjsua2
        try:
            self._on_incoming(self, prm)
        except Exception:  # SWIG would print and swallow it
            self._logger.exception("incoming_call_handler_failed")


def account_config(options: PjsuaOptions, id_uri: str, auth: tuple[str, str] | None) -> Any:
    """An AccountConfig without registration, with our RTP ports and outbound proxy."""
    cfg = pj.AccountConfig()
    cfg.idUri = id_uri
    if options.outbound_proxy:
        cfg.sipConfig.proxies.append(options.outbound_proxy)
    if auth is not None:
        cred = pj.AuthCredInfo("digest", "*", auth[0], 0, auth[1])
        cfg.sipConfig.authCreds.append(cred)
    # RFC 4028: a dialog whose far end vanished ends when it stops refreshing the session.
    timer = cfg.callConfig
    timer.timerUse = {
        "off": pj.PJSUA_SIP_TIMER_INACTIVE,
        "optional": pj.PJSUA_SIP_TIMER_OPTIONAL,
        "required": pj.PJSUA_SIP_TIMER_REQUIRED,
        "always": pj.PJSUA_SIP_TIMER_ALWAYS,
    }[options.session_timer]
    timer.timerSessExpiresSec = options.session_expires
    timer.timerMinSESec = options.min_se
    # RFC 5626 outbound adds ";ob" and reg-id machinery we have no use for without a registrar.
    cfg.natConfig.sipOutboundUse = 0
    # pjsua "locks" the codec when an answer lists several: an immediate re-INVITE (or UPDATE)
    # offering only the first. RFC 3264 6.1 lets an answer list several and we send the first
    # one anyway (the far end must be ready to receive any it listed), so the extra
    # transaction only costs a round trip, glare risk and confused far ends.
    cfg.mediaConfig.lockCodecEnabled = False
    media = cfg.mediaConfig.transportConfig
    media.port = options.rtp_port
    media.portRange = options.rtp_port_range
    media.boundAddress = options.bind_host
    if options.public_address:
        media.publicAddress = options.public_address
    return cfg


class Accounts:
    """The main account plus cached credential accounts. Owner thread only."""

    def __init__(
        self, options: PjsuaOptions, contact_uri: str, on_incoming: IncomingHandler, logger: Logger
    ) -> None:
        self._options = options
        self._on_incoming = on_incoming
        self._logger = logger
        self._main: SipAccount | None = self._create(contact_uri, None, default=True)
        self._extra: OrderedDict[tuple[str, str, str], SipAccount] = OrderedDict()

    @property
    def main(self) -> SipAccount:
        """The account that receives INVITEs and places unauthenticated legs."""
        if self._main is None:
            raise BackendError("accounts are shut down", op="dial")
        return self._main

    def _create(self, id_uri: str, auth: tuple[str, str] | None, *, default: bool) -> SipAccount:
        account = SipAccount(self._on_incoming, self._logger)
        try:
            account.create(account_config(self._options, id_uri, auth), default)
        except pj.Error as exc:
            raise to_backend_error(exc, "account", f"cannot create account {id_uri}") from None
        return account

    def for_dial(
        self,
        auth_user: str | None,
        password: str | None,
        uri: str,
        busy: Callable[[SipAccount], bool],
    ) -> SipAccount:
        """The account to place a call to ``uri`` with; raises BackendError if none is free."""
        if not auth_user:
            return self.main
        host = host_part(uri)
        key = (auth_user, password or "", host)
        account = self._extra.get(key)
        if account is not None:
            self._extra.move_to_end(key)
            return account
        if len(self._extra) >= MAX_CREDENTIAL_ACCOUNTS:
            idle = next((k for k, acc in self._extra.items() if not busy(acc)), None)
            if idle is None:
                raise BackendError(
                    f"more than {MAX_CREDENTIAL_ACCOUNTS} credential sets in use at once",
                    op="dial",
                )
            self._close(self._extra.pop(idle))
        account = self._create(
            f"sip:{auth_user}@{host}", (auth_user, password or ""), default=False
        )
        self._extra[key] = account
        return account

    def _close(self, account: SipAccount) -> None:
        try:
            account.shutdown()
        except pj.Error as exc:
            self._logger.warning("account_shutdown_failed", error=reason_of(exc))

    def shutdown(self) -> None:
        """Shut every account down and drop the references (required before libDestroy)."""
        for account in self._extra.values():
            self._close(account)
        self._extra.clear()
        main, self._main = self._main, None
        if main is not None:
            self._close(main)
