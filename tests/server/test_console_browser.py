"""The web console in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, against a real ``voxpy serve`` (Kamailio, two workers) and a real pjsua2 caller.

Every wait is for an element or an event (Playwright's ``wait_for_selector`` /
``wait_for_function``), never for time. Without Chromium or Playwright the module is
skipped with the reason, except in CI (``CI=true``), where a missing browser fails.
Screenshots go to ``$VOXPY_SCREENSHOTS`` when set (that is how docs/console-*.png are made),
else to the test's temporary directory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import TEST_SCENARIOS
from tests.server.serve_process import TOKEN, ServeProcess
from tests.sip.conftest import Peer
from voxpy.core.signals import Ended

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.realtime]

CHROMIUM = Path(os.environ.get("VOXPY_CHROMIUM", "/usr/bin/chromium"))
XSS = "<script>alert(1)</script>"
WAIT_MS = 20_000


def _need_browser() -> None:
    why = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        why = "Python playwright is not installed (pip install -e '.[test]')"
    if why is None and not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing: run scripts/install-system-deps.sh (Debian's chromium)"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser tests: {why}", pytrace=False)
        pytest.skip(why)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServeProcess]:
    _need_browser()
    recordings = tmp_path_factory.mktemp("recordings")
    serve = ServeProcess(
        TEST_SCENARIOS / "console_lab.py",
        workers=2,
        env={"VOXPY_MEDIA__RECORDINGS_DIR": str(recordings)},
    )
    try:
        yield await serve.start()
    finally:
        await serve.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    _need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        # Root has no user namespace sandbox here; Playwright passes --no-sandbox itself.
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield launched
        finally:
            await launched.close()


class Console:
    """One browser context signed in to the console, and the dialogs it saw (none, we hope)
    and its console messages (a CSP violation would show there)."""

    def __init__(self, page: Any, dialogs: list[str], messages: list[str]) -> None:
        self.page, self.dialogs, self.messages = page, dialogs, messages

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]


@pytest_asyncio.fixture(loop_scope="module")
async def console(browser: Any, server: ServeProcess) -> AsyncIterator[Console]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    dialogs: list[str] = []

    async def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    reply = await page.goto(f"{server.url}/console?token={TOKEN}")
    assert reply is not None and reply.status == 200
    try:
        yield Console(page, dialogs, messages)
    finally:
        await context.close()


def shots() -> Path:
    return Path(os.environ.get("VOXPY_SCREENSHOTS") or os.environ.get("TMPDIR", "/tmp"))


async def test_token_becomes_a_cookie_and_leaves_the_url(
    console: Console, server: ServeProcess
) -> None:
    page = console.page
    assert page.url == f"{server.url}/console"  # redirected without ?token=
    cookies = await page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("voxpy_console", True, "Strict")
    ]
    assert TOKEN not in await page.content() and TOKEN not in cookies[0]["value"]
    await page.wait_for_selector('#workers tr[data-worker="1"]')


async def test_wrong_token_401(browser: Any, server: ServeProcess) -> None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        reply = await page.goto(f"{server.url}/console?token=wrong")
        assert reply is not None and reply.status == 401
        assert "not signed in" in await page.inner_text("h1")
        assert "wrong" not in await page.content() and await context.cookies() == []
    finally:
        await context.close()


async def test_session_appears_live_then_finished_as_text(
    console: Console, server: ServeProcess
) -> None:
    """Started over the API: it shows up in the live list; its custom data, a script tag,
    is shown as text and never runs; its page, open while it ends, reloads as finished; the
    overview lists it as finished with its outcome."""
    page = console.page
    status, body = await server.api("POST", "/sessions", json_body={"custom_data": XSS})
    assert status == 201, body
    session_id = body["session_id"]
    row = f'#live tr[data-session="{session_id}"]'
    await page.wait_for_selector(row)
    assert XSS in await page.inner_text(row)
    await page.click(f"{row} a")
    await page.wait_for_selector('#facts[data-state="live"]')
    assert await page.inner_text("#custom-data") == XSS
    status, _ = await server.api("DELETE", f"/sessions/{session_id}")
    assert status == 202
    await page.wait_for_selector('#facts[data-state="finished"]')  # the page reloaded itself
    assert await page.inner_text("#outcome") == "no_calls"
    assert "Application.Terminated" in await page.inner_text("#timeline")
    await page.goto(f"{server.url}/console")
    done = f'#finished tr[data-session="{session_id}"]'
    await page.wait_for_selector(done)
    assert "no_calls" in await page.inner_text(f"{done} .outcome")
    assert XSS in await page.inner_text(done)
    assert console.dialogs == [] and console.csp_violations() == []


async def test_charts_get_points(console: Console) -> None:
    page = console.page
    await page.wait_for_function(
        "() => [...document.querySelectorAll('figure.chart')]"
        ".every(f => Number(f.dataset.count) >= 3)"
    )
    points = await page.get_attribute('figure[data-figure="live_calls"] polyline', "points")
    assert points is not None and len(points.split()) >= 3


async def test_call_recorded_diagram_and_player(console: Console, server: ServeProcess) -> None:
    """A caller is answered and recorded; its session's page shows the diagram (or the "no
    journal" state) and plays the recording in its <audio> element to the end."""
    page = console.page
    peer = await Peer().start()
    try:
        leg = peer.dial(server.uri("100"))
        live = page.locator("#live tr[data-session]", has_text="→")  # a row with its call
        await live.first.wait_for()
        session_id = await live.first.get_attribute("data-session")
        ended = await peer.next(Ended, leg, timeout=30)  # the scenario hangs up after its greeting
        assert ended.code == 200, ended
    finally:
        await peer.backend.stop()
    done = f'#finished tr[data-session="{session_id}"]'
    await page.wait_for_selector(f"{done} .outcome.connected")
    await page.screenshot(path=str(shots() / "console-overview.png"), full_page=True)
    await page.click(f"{done} a")
    # Journals are on by default: the session's ladder diagram is drawn and shown.
    status, _, _ = await server.api_raw("GET", f"/sessions/{session_id}/flow.svg")
    assert status == 200
    await page.wait_for_selector('#diagram[data-state="shown"] #flow')
    audio = page.locator("#recordings audio").first
    await audio.wait_for()
    await page.wait_for_function("() => document.querySelector('#recordings audio').duration > 0")
    await page.screenshot(path=str(shots() / "console-session.png"), full_page=True)
    assert console.csp_violations() == []
    played = await asyncio.wait_for(
        audio.evaluate(
            """async (a) => {
                a.muted = true;  // headless has no sound card; time still runs
                const ended = new Promise((done) => a.addEventListener("ended", done));
                await a.play();
                await ended;
                return {duration: a.duration, at: a.currentTime};
            }"""
        ),
        30,
    )
    assert played["duration"] > 1 and played["at"] >= played["duration"] - 0.1, played


async def test_diagram_shown_when_served(console: Console, server: ServeProcess) -> None:
    """The page shows a diagram it gets: the browser is handed one for flow.svg (what the
    journal's route serves), whether or not this server keeps journals."""
    page = console.page
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80">'
        '<text x="10" y="40">caller → engine: INVITE</text></svg>'
    )

    async def fulfil(route: Any) -> None:
        await route.fulfill(status=200, body=svg, content_type="image/svg+xml")

    await page.route("**/flow.svg", fulfil)
    status, body = await server.api("POST", "/sessions", json_body={"custom_data": "diagram"})
    assert status == 201, body
    await page.goto(f"{server.url}/console/sessions/{body['session_id']}")
    await page.wait_for_selector('#diagram[data-state="shown"] #flow')
    assert await page.is_hidden("#no-journal")
    assert await page.evaluate("document.getElementById('flow').naturalWidth") == 200
    await server.api("DELETE", f"/sessions/{body['session_id']}")
