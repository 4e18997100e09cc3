"""The supervisor's conference directory over its unix socket, and a worker's client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import structlog

from voxpy.runtime.conference_links import link_proof, proof_holds
from voxpy.server.conferences import ConferenceService, DirectoryClient, DirectoryError

TOKEN = "t0ken"
WORKERS = {f"w{i}": f"sip:127.0.0.1:{5100 + i}" for i in range(6)}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[ConferenceService, str]]:
    svc = ConferenceService(TOKEN, WORKERS.get, structlog.get_logger("test"))
    path = str(tmp_path / "conferences.sock")
    await svc.start(Path(path))
    yield svc, path
    await svc.stop()


async def test_pieces_link_up_a_tree_and_move_when_one_goes(
    service: tuple[ConferenceService, str],
) -> None:
    svc, path = service
    clients = [DirectoryClient(path, TOKEN, f"w{i}") for i in range(4)]
    try:
        ups = [await c.join("room-1") for c in clients]
        assert [u.parent_uri for u in ups] == [None, WORKERS["w0"], WORKERS["w0"], WORKERS["w1"]]
        assert [u.depth for u in ups] == [0, 1, 1, 2]
        assert (await clients[3].join("room-1")) == ups[3]  # asking again: the same answer
        await clients[1].leave("room-1")  # w3's parent ended: w3 hangs below w0 or w2 now
        assert (await clients[3].join("room-1")).parent_uri in (WORKERS["w0"], WORKERS["w2"])
        svc.worker_gone("w0")  # the root's worker died: a child is the root
        roots = [w for w, p in svc.directory.pieces("room-1").items() if p is None]
        assert len(roots) == 1 and "w0" not in svc.directory.pieces("room-1")
        placed = await clients[2].refused("room-1", "ignored", 486)  # stale: answered as it is
        assert placed.parent_uri in (None, WORKERS["w3"])
        await clients[1].leave("room-1")  # gone already: a late refusal recreates nothing
        with pytest.raises(DirectoryError, match="404"):
            await clients[1].refused("room-1", "ignored", 486)
        assert "w1" not in svc.directory.pieces("room-1")
    finally:
        for c in clients:
            await c.close()


async def test_a_parent_whose_worker_is_down_is_asked_again_later(tmp_path: Path) -> None:
    """Between a worker's exit and its pieces leaving, a child must not be told "no parent"
    (it would stay a root for good): 503, and it asks again."""
    up = dict(WORKERS)
    svc = ConferenceService(TOKEN, up.get, structlog.get_logger("test"))
    path = tmp_path / "c.sock"
    await svc.start(path)
    w0, w1 = (DirectoryClient(str(path), TOKEN, w) for w in ("w0", "w1"))
    try:
        await w0.join("room")
        del up["w0"]  # w0's worker exited; the supervisor has not handled it yet
        with pytest.raises(DirectoryError, match="503"):
            await w1.join("room")
        svc.worker_gone("w0")
        assert (await w1.join("room")).parent_uri is None  # now it is the root
    finally:
        await w0.close()
        await w1.close()
        await svc.stop()


async def test_bad_requests_are_refused_and_change_nothing(
    service: tuple[ConferenceService, str],
) -> None:
    svc, path = service
    stranger = DirectoryClient(path, TOKEN, "w99")
    wrong_token = DirectoryClient(path, "nope", "w0")
    try:
        with pytest.raises(DirectoryError, match="400"):
            await stranger.join("room")
        with pytest.raises(DirectoryError, match="401"):
            await wrong_token.join("room")
        for bad in ("r%20oom", "x" * 129, "caf%C3%A9"):
            client = DirectoryClient(path, TOKEN, "w0")
            with pytest.raises(DirectoryError, match="400"):
                await client.join(bad)
            await client.close()
        assert svc.directory.names() == []
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=path)) as http:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            async with http.post("http://d/conferences/room/join", data="[1]", headers=auth) as r:
                assert r.status == 400
            async with http.get("http://d/conferences", headers=auth) as r:
                assert await r.json() == {}
    finally:
        await stranger.close()
        await wrong_token.close()


async def test_an_unreachable_directory_is_a_clear_error(tmp_path: Path) -> None:
    client = DirectoryClient(str(tmp_path / "none.sock"), TOKEN, "w0")
    with pytest.raises(DirectoryError, match="unreachable"):
        await client.join("room")
    await client.close()


def test_a_link_proof_names_the_conference_the_worker_and_the_time() -> None:
    proof = link_proof("s3cret", "room", "w1", 1000)
    assert proof_holds("s3cret", "room", "w1", proof, now=1010)
    assert not proof_holds("s3cret", "room", "w1", proof, now=1031)  # replayed too late
    assert not proof_holds("s3cret", "room", "w2", proof, now=1000)  # another worker's
    assert not proof_holds("s3cret", "hall", "w1", proof, now=1000)  # another conference
    assert not proof_holds("other", "room", "w1", proof, now=1000)
    assert not proof_holds("s3cret", "room", "", proof, now=1000)
    for hostile in ("", "x", "1000:", "1000:é" * 40, "\u0661\u0660\u0660\u0660:ab"):  # never raises
        assert not proof_holds("s3cret", "room", "w1", hostile, now=1000)
