"""Pairs each engine leg with its peer leg by a header the harness adds and removes again.

The engine's backend is wrapped: every ``Dial`` it sends carries ``X-Voxpy-Leg: <engine id>``,
and every INVITE the peer sends carries ``X-Voxpy-Leg: <peer id>``. The header is stripped
before the scenario or the test sees it, so it changes nothing they can observe.
"""

from __future__ import annotations

import dataclasses

from voxpy.core import commands as cmd
from voxpy.core.headers import Headers
from voxpy.core.ports import Backend, SignalSink
from voxpy.core.signals import IncomingCall, Signal

LEG_HEADER = "X-Voxpy-Leg"


def _without(headers: Headers) -> Headers:
    return Headers((k, v) for k, v in headers.items() if k.lower() != LEG_HEADER.lower())


class LegTap:
    """A Backend wrapper around the engine's backend; see the module docstring."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self._engine_by_peer: dict[str, str] = {}
        self._sink: SignalSink | None = None

    # -- Backend port, forwarded -------------------------------------------------------------

    @property
    def max_calls(self) -> int:
        return self.inner.max_calls

    @property
    def contact_uri(self) -> str:
        return self.inner.contact_uri

    async def start(self, sink: SignalSink) -> None:
        self._sink = sink
        await self.inner.start(self._on_signal)

    def send(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.Dial):
            command = dataclasses.replace(
                command, headers=self.tag(command.headers, command.call_id)
            )
        self.inner.send(command)

    def stop_accepting(self) -> None:
        self.inner.stop_accepting()

    async def stop(self) -> None:
        await self.inner.stop()

    # -- pairing -----------------------------------------------------------------------------

    @staticmethod
    def tag(headers: Headers, leg_id: str) -> Headers:
        return Headers([*_without(headers).items(), (LEG_HEADER, leg_id)])

    def untag(self, incoming: IncomingCall) -> Headers:
        """Headers of an INVITE the peer received, minus the tag; remembers the pairing."""
        engine_id = incoming.headers.get(LEG_HEADER)
        if engine_id:
            self._engine_by_peer[incoming.call_id] = engine_id
        return _without(incoming.headers)

    def engine_leg(self, peer_id: str) -> str | None:
        return self._engine_by_peer.get(peer_id)

    def _on_signal(self, signal: Signal) -> None:
        # May run on the backend's own thread: only a dict write, then the engine's sink.
        if isinstance(signal, IncomingCall) and LEG_HEADER in signal.headers:
            self._engine_by_peer[signal.headers[LEG_HEADER]] = signal.call_id
            signal = dataclasses.replace(signal, headers=_without(signal.headers))
        assert self._sink is not None
        self._sink(signal)
