"""Baseline for bench/serve_load.py: a bare pjsua2 script that answers every call, plays
``--wav`` into it (the same prompt voxpy says) and hangs up after ``--hold`` seconds. No voxpy,
no asyncio: what pjsua2 alone costs for the same work.

Run: python bench/bare_pjsua2_answer.py --port 5080 [--hold 1.5] [--wav prompt.wav]

This file is a benchmark baseline and deliberately talks to pjsua2 directly; voxpy itself only
does so in voxpy/backends/pjsua2. One thread, threadCnt=0, libHandleEvents() polled.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import pjsua2 as pj

POLL_MS = 10


class AnswerCall(pj.Call):  # type: ignore[misc]
    """Remembers when it was answered; the main loop hangs it up after the hold."""

    def __init__(self, account: AnswerAccount, call_id: int) -> None:
        super().__init__(account, call_id)
        self.account = account
        self.player: Any = None
        self.answered_at = 0.0

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            if self.player is not None:  # its bridge link went with the call's media
                self.account.players.append(self.player)
                self.player = None
            # Dropping the last reference here is allowed, and must not wait: a Call deleted
            # later would hang up whichever new call reuses its id.
            self.account.calls.pop(self.getId(), None)

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            active = media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
            free = self.player is None and self.account.players
            if media.type == pj.PJMEDIA_TYPE_AUDIO and active and free:
                self.player = self.account.players.pop()
                self.player.setPos(0)
                self.player.startTransmit(self.getAudioMedia(index))
                clock_realtime(self.account.clock_priority)


def clock_realtime(priority: int) -> None:
    """pjmedia's clock thread (it starts with the first media link) at SCHED_RR, as voxpy's
    media.clock_priority does: the same scheduling for both sides of the bench."""
    if priority <= 0:
        return
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            if (task / "comm").read_text().strip() == "clock":
                os.sched_setscheduler(int(task.name), os.SCHED_RR, os.sched_param(priority))


class AnswerAccount(pj.Account):  # type: ignore[misc]
    """Answers every INVITE. Players are made once and reused: destroying one while its EOF
    callback may be in flight crashes pjsua2 2.15."""

    def __init__(self, wav: str, max_calls: int = 4) -> None:
        super().__init__()
        self.calls: dict[int, AnswerCall] = {}
        self.players: list[Any] = []
        self.clock_priority = 0
        for _ in range(max_calls if wav else 0):
            player = pj.AudioMediaPlayer()
            player.createPlayer(wav)  # looping: the hangup ends it, no EOF at the end
            self.players.append(player)

    def onIncomingCall(self, prm: Any) -> None:
        call = AnswerCall(self, prm.callId)
        self.calls[prm.callId] = call
        op = pj.CallOpParam()
        op.statusCode = 200
        call.answer(op)
        call.answered_at = time.monotonic()


def main() -> None:  # noqa: PLR0915 - a baseline reads best as one straight script
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="SIP port; 0: the OS picks one")
    parser.add_argument("--rtp-port", type=int, default=30000)
    parser.add_argument("--hold", type=float, default=1.5)
    parser.add_argument("--wav", default="", help="WAV to play into each answered call")
    parser.add_argument("--clock-rate", type=int, default=0, help="bridge rate (0: pjsua's 16000)")
    parser.add_argument("--quality", type=int, default=0, help="resampling quality (0: pjsua's 8)")
    parser.add_argument("--clock-priority", type=int, default=0, help="SCHED_RR, clock thread")
    args = parser.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    cfg.medConfig.noVad = True
    if args.clock_rate:
        cfg.medConfig.clockRate = args.clock_rate
        cfg.medConfig.sndClockRate = args.clock_rate
    if args.quality:
        cfg.medConfig.quality = args.quality
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    tcfg = pj.TransportConfig()
    tcfg.port = args.port
    tcfg.boundAddress = args.host
    transport = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    port = int(str(ep.transportGetInfo(transport).localName).rsplit(":", 1)[1])
    ep.libStart()
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:bare@{args.host}:{port}"
    acfg.mediaConfig.transportConfig.port = args.rtp_port
    acfg.mediaConfig.transportConfig.boundAddress = args.host
    account = AnswerAccount(args.wav)
    account.clock_priority = args.clock_priority
    calls = account.calls
    account.create(acfg)
    print("ready", port, flush=True)  # noqa: T201 - the bench waits for this line (--port 0: ours)
    while not stop:
        ep.libHandleEvents(POLL_MS)
        hang_up(calls, time.monotonic() - args.hold)
    hang_up(calls, float("inf"))
    for _ in range(50):
        ep.libHandleEvents(POLL_MS)
    calls.clear()
    players = account.players
    account.shutdown()
    del account
    players.clear()
    ep.libDestroy()


def hang_up(calls: dict[int, AnswerCall], answered_before: float) -> None:
    """Hang up the calls answered before the given time. A function of its own so that no
    loop variable keeps a Call alive past libDestroy() (that aborts the process)."""
    for call in list(calls.values()):
        if call.answered_at and call.answered_at <= answered_before:
            call.answered_at = 0.0
            with contextlib.suppress(pj.Error):  # the caller may have hung up first
                call.hangup(pj.CallOpParam())


if __name__ == "__main__":
    main()
