"""Kamailio's JSON-RPC over a unix datagram socket (the ``jsonrpcs`` module, transport 4).

One request per datagram; Kamailio answers to the sender's address, so each call binds its own
short-lived socket in the run directory. Calls are rare (a worker starts, dies or drains), so
they run in a thread with a blocking socket rather than on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
from pathlib import Path
from typing import Any

from voxpy.errors import VoxpyError

RPC_TIMEOUT_S = 3.0
_MAX_REPLY = 1 << 20
NO_SETS = "No Destination Sets"
"Kamailio 5.6's ``dispatcher.list`` error for an empty list: not a failure for us."
SOCKET_PATH_MAX = 100
"Unix socket paths must fit in sockaddr_un.sun_path (108 bytes on Linux)."


class RpcError(VoxpyError):
    """Kamailio did not answer, or answered with a JSON-RPC error."""


class KamailioRpc:
    """Client for the ``jsonrpcs`` datagram socket at ``server_path``."""

    def __init__(self, server_path: Path, client_dir: Path) -> None:
        self.server_path = server_path
        self._client_dir = client_dir
        self._ids = itertools.count(1)

    async def call(self, method: str, *params: str | int) -> Any:
        """Run ``method`` with ``params`` and return its ``result``; raises RpcError."""
        request_id = next(self._ids)
        payload = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": request_id}
        reply = await asyncio.to_thread(self._exchange, json.dumps(payload).encode(), request_id)
        if "error" in reply:
            error = reply["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise RpcError(f"{method}: {message}")
        return reply.get("result")

    def _exchange(self, data: bytes, request_id: int) -> dict[str, Any]:
        path = self._client_dir / f"rpc-{os.getpid()}-{request_id}.sock"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(str(path))
            sock.settimeout(RPC_TIMEOUT_S)
            sock.sendto(data, str(self.server_path))
            raw = sock.recv(_MAX_REPLY)
        except TimeoutError:
            raise RpcError(f"no reply from Kamailio in {RPC_TIMEOUT_S:.0f} s") from None
        except OSError as exc:
            raise RpcError(f"cannot reach Kamailio at {self.server_path}: {exc}") from None
        finally:
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        try:
            reply = json.loads(raw)
        except json.JSONDecodeError:
            raise RpcError(f"Kamailio sent a reply that is not JSON: {raw[:200]!r}") from None
        if not isinstance(reply, dict):
            raise RpcError(f"unexpected reply from Kamailio: {raw[:200]!r}")
        return reply

    async def set_state(self, state: str, uri: str, group: int = 1) -> None:
        """``dispatcher.set_state``: "ap" active, "ip" inactive (probed), "d" disabled."""
        await self.call("dispatcher.set_state", state, group, uri)

    async def replace_destination(
        self, old_uri: str, new_uri: str, attrs: str, flags: int = 8, group: int = 1
    ) -> None:
        """``dispatcher.remove`` then ``dispatcher.add``: a destination with new attributes
        (a new duid) and no call load, active and probed (flags 8). The other destinations
        keep their state and load."""
        await self.call("dispatcher.remove", group, old_uri)
        await self.call("dispatcher.add", group, new_uri, flags, 0, attrs)

    async def add_destination(self, uri: str, attrs: str, flags: int = 8, group: int = 1) -> None:
        """``dispatcher.add``: a new destination, active and probed (flags 8). Kamailio 5.6
        takes it into an empty list too (a front whose first worker host joins)."""
        await self.call("dispatcher.add", group, uri, flags, 0, attrs)

    async def remove_destination(self, uri: str, group: int = 1) -> None:
        """``dispatcher.remove``: the destination and its call load are forgotten."""
        await self.call("dispatcher.remove", group, uri)

    async def destinations(self) -> dict[str, dict[str, Any]]:
        """``dispatcher.list`` as ``{uri: {"flags": "AP", "load": 2, "duid": "w0"}}``."""
        try:
            result = await self.call("dispatcher.list")
        except RpcError as exc:
            if NO_SETS in str(exc):  # an empty list (a front before any worker host joined)
                return {}
            raise
        found: dict[str, dict[str, Any]] = {}
        for record in (result or {}).get("RECORDS", []):
            for target in record.get("SET", {}).get("TARGETS", []):
                dest = target.get("DEST", {})
                found[str(dest.get("URI"))] = {
                    "flags": dest.get("FLAGS"),
                    "load": dest.get("RUNTIME", {}).get("DLGLOAD"),
                    "duid": dest.get("ATTRS", {}).get("DUID"),
                }
        return found
