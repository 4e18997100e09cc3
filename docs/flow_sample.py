"""Make docs/flow-sample.svg: the README's sample ladder diagram, from a shipped scenario.

    .venv/bin/python docs/flow_sample.py [memory]

scenarios/ivr.py through the test kit over real SIP (pjsua2 on loopback; ``memory`` for the
memory mode, whose figure is the same on every run): the caller presses 1 and is forwarded
to sales, which answers; sales hangs up a second later.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.shipped.scripts import SHIPPED, Run, path  # noqa: E402
from voxpy.core.journal import flow_svg  # noqa: E402
from voxpy.testing import ScenarioHarness  # noqa: E402


async def main() -> None:
    shipped = next(s for s in SHIPPED if s.name == "ivr_sales")
    backend = "memory" if sys.argv[1:] == ["memory"] else "sip"
    async with ScenarioHarness(
        path(shipped),
        backend=backend,  # type: ignore[arg-type]
        custom_data=shipped.custom_data,
        config={"timeouts.session_grace": 1},
    ) as h:
        await shipped.script(Run(h))
        await h.wait_until(lambda: not h.engine.sessions, 30, "the session to end")
        entries = h.journal()
    out = ROOT / "docs" / "flow-sample.svg"
    out.write_text(flow_svg(entries), encoding="utf-8")
    print(f"wrote {out} ({len(entries)} entries)")  # noqa: T201


if __name__ == "__main__":
    asyncio.run(main())
