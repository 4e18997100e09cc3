"""The README's "Testing your scenarios" example runs as written, on both backends."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT


def _example() -> dict[str, object]:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n# tests/test_my_scenarios.py\n(.*?)```", text, re.S)
    assert match, "README lost its testing example"
    namespace: dict[str, object] = {}
    exec(compile(match.group(1), "README.md", "exec"), namespace)
    return namespace


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the example uses paths relative to the project


async def test_memory_example() -> None:
    await _example()["test_answers_then_hangs_up"]()  # type: ignore[operator]


async def test_plugin_example(voxpy_harness: object) -> None:
    await _example()["test_outbound_leg_times_out"](voxpy_harness)  # type: ignore[operator]
