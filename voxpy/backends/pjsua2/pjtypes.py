"""Typed shapes of the pjsua2 objects this backend reads and fills in (pjsua2 ships no stubs).

Only the attributes the backend uses are declared, with the Python types SWIG hands back
(pjsua2's C ints arrive as ``int``, pj_str_t as ``str``). Structural types rather than a
``pjsua2.pyi``: mypy sees the real module as ``Any`` (``ignore_missing_imports``), so any
pjsua2 object is accepted where one of these is expected, and a misspelt attribute in
voxpy is caught at its use. Pointers (``pjTransaction``, ``pjRxData``) are SWIG objects that
convert with ``int()``, hence ``SupportsInt``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, SupportsInt


class RxData(Protocol):
    """SipRxData: a received message."""

    wholeMsg: str
    pjRxData: SupportsInt


class Transaction(Protocol):
    """SipTransaction."""

    method: str
    role: int
    state: int
    statusCode: int
    statusText: str
    pjTransaction: SupportsInt


class TxOrRx(Protocol):
    """TsxStateEventSrc: what caused a transaction state change."""

    rdata: RxData


class TsxStateEvent(Protocol):
    type: int
    tsx: Transaction
    src: TxOrRx


class RxMsgEvent(Protocol):
    rdata: RxData


class SipEventBody(Protocol):
    """A C union: only the member named by SipEvent.type is set."""

    tsxState: TsxStateEvent
    rxMsg: RxMsgEvent


class SipEvent(Protocol):
    type: int
    body: SipEventBody


class HasEvent(Protocol):
    """OnCallStateParam, OnCallTsxStateParam, OnCallRedirectedParam (``e``)."""

    e: SipEvent


class RedirectedParam(HasEvent, Protocol):
    targetUri: str


class TransferRequestParam(Protocol):
    statusCode: int


class TransferStatusParam(Protocol):
    statusCode: int
    reason: str
    finalNotify: bool


class InstantMessageParam(Protocol):
    msgBody: str
    rdata: RxData


class InstantMessageStatusParam(Protocol):
    code: int
    reason: str
    msgBody: str


class SdpSession(Protocol):
    wholeSdp: str


class RxReinviteParam(Protocol):
    rdata: RxData
    offer: SdpSession


class StreamParam(Protocol):
    """OnStreamCreatedParam / OnStreamDestroyedParam (pointer fields as ints)."""

    streamIdx: int
    stream: SupportsInt


class DtmfDigitParam(Protocol):
    digit: str
    method: int


class IncomingCallParam(Protocol):
    callId: int
    rdata: RxData


class ByteVector(Protocol):
    """SWIG ``std::vector<uint8_t>``: iterable ints, ``this`` the C++ object's address."""

    this: SupportsInt

    def __iter__(self) -> Iterator[int]: ...


class MediaFrame(Protocol):
    type: int
    size: int
    buf: ByteVector


class LogEntry(Protocol):
    level: int
    msg: str


class CallMediaInfo(Protocol):
    index: int
    type: int
    status: int
    dir: int


class CallInfo(Protocol):
    state: int
    lastStatusCode: int
    lastReason: str
    media: Sequence[CallMediaInfo]


class MathStat(Protocol):
    n: int
    last: int


class RtcpStreamStat(Protocol):
    pkt: int
    bytes: int
    loss: int
    jitterUsec: MathStat


class RtcpStat(Protocol):
    rxStat: RtcpStreamStat
    txStat: RtcpStreamStat
    rttUsec: MathStat


class StreamStat(Protocol):
    rtcp: RtcpStat


class StreamInfo(Protocol):
    codecName: str


class BridgePort(Protocol):
    """Anything with a conference bridge slot: a call's AudioMedia, a player, a custom port."""

    def getPortId(self) -> int: ...
    def startTransmit(self, sink: BridgePort) -> None: ...
    def stopTransmit(self, sink: BridgePort) -> None: ...


class ToneGenerator(BridgePort, Protocol):
    def createToneGenerator(self, clock_rate: int, channel_count: int) -> None: ...
    def playDigits(self, digits: object) -> None: ...  # a ToneDigitVector


class AudioMedia(BridgePort, Protocol):
    """A call's AudioMedia; levels are 0-255 (see stats)."""

    def getRxLevel(self) -> int: ...
    def getTxLevel(self) -> int: ...


class StatsCall(Protocol):
    """The pj.Call methods that statistics read (a Leg is one)."""

    def getInfo(self) -> CallInfo: ...
    def getStreamStat(self, index: int) -> StreamStat: ...
    def getStreamInfo(self, index: int) -> StreamInfo: ...
