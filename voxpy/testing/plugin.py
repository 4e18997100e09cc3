"""pytest plugin (entry point ``voxpy``): a ``voxpy_harness`` fixture and ``--voxpy-backend``.

A suite written once runs on either backend, or both::

    async def test_hello(voxpy_harness):
        h = await voxpy_harness("scenarios/hello_hangup.py")
        call = await h.dial()
        assert await call.wait_hangup() == 200

    pytest --voxpy-backend=memory   # default: milliseconds per test
    pytest --voxpy-backend=sip      # real pjsua2 over loopback
    pytest --voxpy-backend=all      # every such test once per backend
    pytest -m 'not realtime'        # skip what needs wall-clock time (the sip runs included)

No ``asyncio_mode = auto`` is needed: an ``async def`` test that takes ``voxpy_harness`` (or
``voxpy_backend``) is marked ``pytest.mark.asyncio`` here, as pytest-asyncio's strict mode
(its default) asks. Other async tests, e.g. ones using ``ScenarioHarness`` directly, need the
marker or ``asyncio_mode = auto`` as usual.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from voxpy.testing.flows import attach_flows, flow_dir
from voxpy.testing.harness import ScenarioHarness

BACKENDS = ("memory", "sip")
HarnessFactory = Callable[..., Awaitable[ScenarioHarness]]


_OPENED = pytest.StashKey[list[ScenarioHarness]]()
"A test's harnesses, for its call flows if it fails."


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("voxpy")
    group.addoption(
        "--voxpy-backend",
        choices=[*BACKENDS, "all"],
        default=None,
        help="backend for the voxpy_harness fixture: memory (default), sip, or all",
    )
    group.addoption(
        "--voxpy-flow-dir",
        default=None,
        metavar="DIR",
        help="where a failing test's call-flow diagrams go (default .pytest_cache/d/voxpy-flows)",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """A test that failed while its harnesses ran: draw their sessions' flows (voxpy.testing
    .flows), as files and as a "voxpy call flow" section of its report."""
    outcome = yield
    report = outcome.get_result()
    harnesses = item.stash.get(_OPENED, None)
    if report.when != "call" or not report.failed or not harnesses:
        return
    text = attach_flows(item.nodeid, harnesses, flow_dir(item.config))
    if text:
        report.sections.append(("voxpy call flow", text))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "voxpy_backend(name): run only on this voxpy backend")
    config.addinivalue_line(
        "markers",
        "realtime: needs wall-clock time (real SIP, processes, threads); the sip backend's "
        "voxpy_harness tests carry it. Deselect with -m 'not realtime'",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Mark async tests that use the voxpy fixtures for pytest-asyncio (strict mode too)."""
    if not inspect.iscoroutinefunction(obj) or not collector.config.pluginmanager.hasplugin(
        "asyncio"
    ):
        return
    params = inspect.signature(obj).parameters
    if ("voxpy_harness" in params or "voxpy_backend" in params) and not any(
        m.name == "asyncio" for m in getattr(obj, "pytestmark", [])
    ):
        pytest.mark.asyncio(obj)


def _chosen(config: pytest.Config) -> list[str]:
    value = config.getoption("--voxpy-backend") or "memory"
    return list(BACKENDS) if value == "all" else [value]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "voxpy_backend" in metafunc.fixturenames:
        chosen = _chosen(metafunc.config)
        marker = metafunc.definition.get_closest_marker("voxpy_backend")
        if marker is not None:
            chosen = [b for b in chosen if b in marker.args] or list(marker.args)
        params = [pytest.param(b, marks=pytest.mark.realtime) if b == "sip" else b for b in chosen]
        metafunc.parametrize("voxpy_backend", params, scope="function")


@pytest.fixture
def voxpy_backend(request: pytest.FixtureRequest) -> str:
    """The backend this test runs on (parametrized by --voxpy-backend)."""
    return str(getattr(request, "param", _chosen(request.config)[0]))


async def _voxpy_harness(
    voxpy_backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[HarnessFactory]:
    """``await voxpy_harness(scenario, custom_data=None, config=None)`` -> a started
    ScenarioHarness on the selected backend, shut down after the test."""
    opened: list[ScenarioHarness] = []
    request.node.stash[_OPENED] = opened

    async def open_harness(scenario: str | Path, **kwargs: Any) -> ScenarioHarness:
        harness = ScenarioHarness(scenario, backend=voxpy_backend, **kwargs)  # type: ignore[arg-type]
        await harness.__aenter__()
        opened.append(harness)
        return harness

    yield open_harness
    for harness in reversed(opened):
        await harness.__aexit__(None, None, None)


def _needs_pytest_asyncio() -> None:
    pytest.fail("voxpy_harness needs pytest-asyncio: pip install 'voxpy[test]'")


def _harness_fixture() -> Any:
    # voxpy registers this plugin wherever it is installed; without pytest-asyncio the
    # fixture explains itself instead of breaking the user's whole pytest run.
    try:
        import pytest_asyncio
    except ImportError:
        return pytest.fixture(name="voxpy_harness")(_needs_pytest_asyncio)
    return pytest_asyncio.fixture(name="voxpy_harness")(_voxpy_harness)


voxpy_harness = _harness_fixture()
