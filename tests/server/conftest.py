"""Fixtures for ``voxpy serve`` tests: real Kamailio, real workers, pjsua2 peers as callers."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.server.serve_process import ServeProcess
from tests.sip.conftest import peer_factory  # noqa: F401 - the pjsua2 peers that call us

ServeFactory = Callable[..., Awaitable[ServeProcess]]


@pytest.fixture(autouse=True, scope="session")
def _kamailio_installed() -> None:
    """These tests need the real Kamailio: fail (never skip) when it is missing."""
    if shutil.which("kamailio") is None:
        pytest.fail(
            "kamailio is not installed: run scripts/install-system-deps.sh as root "
            "(CI does; on Debian it is `apt-get install -y kamailio`)",
            pytrace=False,
        )


@pytest.fixture
async def serve_factory() -> AsyncIterator[ServeFactory]:
    servers: list[ServeProcess] = []

    async def make(
        scenario: Path,
        *,
        workers: int = 2,
        env: dict[str, str] | None = None,
        outbound_via_front: bool = False,
    ) -> ServeProcess:
        server = ServeProcess(
            scenario, workers=workers, env=env, outbound_via_front=outbound_via_front
        )
        servers.append(server)
        return await server.start()

    yield make
    for server in servers:
        await server.close()
