"""`voxpy serve --reload`: the workers (``voxpy run`` processes) watch and reload too; and
`voxpy dial --sip` calls through the Kamailio front."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.serve_process import ServeProcess
from tests.sip.conftest import Peer
from tests.sip.test_dial_sip import dial
from tests.sip.test_reload import SCENARIO
from voxpy.core.signals import Answered

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'


async def test_serve_passes_reload_to_its_workers(tmp_path: Path) -> None:
    scenario = tmp_path / "versioned.py"
    scenario.write_text(SCENARIO.format(version="one"))
    server = ServeProcess(scenario, workers=1)
    server.argv.append("--reload")
    peer = Peer()
    await peer.start()
    try:
        await server.start()
        await server.wait_log(lambda line: line.get("event") == "scenario_watching")
        scenario.write_text(SCENARIO.format(version="two"))
        await server.wait_log(lambda line: line.get("event") == "scenario_reloaded")
        call_id = peer.dial(server.uri())
        assert (await peer.next(Answered, call_id)).headers.get("X-Version") == "two"
        # The terminal softphone through the Kamailio front: it asks by INFO, hears the answer.
        status, out, err = await dial("--sip", server.sip_uri, "--keys", "i w h")
        assert status == 0, out + err
        assert "sip    INFO text/plain: 'two'" in out
    finally:
        await peer.backend.stop()
        await server.close()
