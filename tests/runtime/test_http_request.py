"""AppEvents.HttpRequest: the handler's return value is the reply (both backends)."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_SCENARIOS, Harness


async def test_reply_is_the_handlers_return_value(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(TEST_SCENARIOS / "http_echo.py", raise_handler_errors=False)
    session = await h.start(custom_data="campaign-7")
    reply = await session.http_request(
        "POST", "/notify", body='{"a": 1}', headers={"X-Tenant": "acme"}
    )
    assert reply == {
        "method": "POST",
        "path": "/notify",
        "body": '{"a": 1}',
        "session": "campaign-7",
        "tenant": "acme",
    }
    assert await session.http_request("GET", "/ignore") is None
    with pytest.raises(RuntimeError, match="bad request handler"):
        await session.http_request("GET", "/boom")
    assert h.session_events().count("Application.HttpRequest") == 3
    assert h.recorder.find("Application.HandlerError").event == "Application.HttpRequest"
