"""Tests for voxpy.log: structlog configuration, JSON output, stdlib routing, filtering."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from voxpy.errors import ConfigError
from voxpy.log import configure_logging, get_logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo structlog, contextvars and root-logger changes after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class TestJson:
    """JSON output carries context, level, timestamp and exceptions."""

    def test_contextvars_level_and_timestamp(self) -> None:
        out = io.StringIO()
        configure_logging(fmt="json", stream=out)
        structlog.contextvars.bind_contextvars(session_id="s-1", call_id="c-1")
        get_logger("voxpy.test").info("call answered", code=200)
        (line,) = lines(out)
        assert line["event"] == "call answered"
        assert line["session_id"] == "s-1"
        assert line["call_id"] == "c-1"
        assert line["level"] == "info"
        assert line["code"] == 200
        assert line["logger"] == "voxpy.test"
        assert line["timestamp"].endswith("Z")
        assert line["timestamp"][:4].isdigit() and "T" in line["timestamp"]

    def test_exception_in_json(self) -> None:
        out = io.StringIO()
        configure_logging(fmt="json", stream=out)
        log = get_logger("voxpy.test")
        try:
            raise RuntimeError("media gone")
        except RuntimeError:
            log.error("playback failed", exc_info=True)
        (line,) = lines(out)
        assert line["level"] == "error"
        (exc,) = line["exception"]
        assert exc["exc_type"] == "RuntimeError"
        assert exc["exc_value"] == "media gone"
        assert "locals" not in exc["frames"][0]

    def test_auto_is_json_when_not_a_tty(self) -> None:
        out = io.StringIO()
        configure_logging(fmt="auto", stream=out)
        get_logger("x").warning("hi")
        assert lines(out)[0]["level"] == "warning"


class TestConfigure:
    """Filtering, reconfiguration, stdlib routing and bad arguments."""

    def test_debug_dropped_at_info(self) -> None:
        out = io.StringIO()
        configure_logging(level="info", fmt="json", stream=out)
        log = get_logger("x")
        log.debug("hidden")
        logging.getLogger("thirdparty").debug("hidden too")
        log.info("shown")
        assert [line["event"] for line in lines(out)] == ["shown"]

    def test_level_case_insensitive(self) -> None:
        out = io.StringIO()
        configure_logging(level="DEBUG", fmt="json", stream=out)
        get_logger("x").debug("shown")
        assert lines(out)[0]["level"] == "debug"

    def test_reconfigure_redirects_existing_loggers(self) -> None:
        log = get_logger("voxpy.early")  # created before any configuration, like a module global
        first, second = io.StringIO(), io.StringIO()
        configure_logging(fmt="json", stream=first)
        log.info("one")
        configure_logging(level="error", fmt="json", stream=second)
        log.info("dropped")
        log.error("two")
        assert [line["event"] for line in lines(first)] == ["one"]
        assert [line["event"] for line in lines(second)] == ["two"]

    def test_stdlib_logs_routed_with_context(self) -> None:
        out = io.StringIO()
        configure_logging(fmt="json", stream=out)
        configure_logging(fmt="json", stream=out)  # no duplicate handler
        structlog.contextvars.bind_contextvars(call_id="c-9")
        logging.getLogger("thirdparty").warning("disk %s", "full")
        (line,) = lines(out)
        assert line["event"] == "disk full"
        assert line["logger"] == "thirdparty"
        assert line["level"] == "warning"
        assert line["call_id"] == "c-9"

    def test_console_format(self) -> None:
        out = io.StringIO()
        configure_logging(fmt="console", stream=out)
        get_logger("voxpy.test").info("ringing", call_id="c-2")
        text = out.getvalue()
        assert "ringing" in text and "call_id=c-2" in text
        assert "\x1b[" not in text  # no colours when the stream is not a TTY

    @pytest.mark.parametrize(
        ("kwargs", "field"), [({"level": "loud"}, "log.level"), ({"fmt": "xml"}, "log.format")]
    )
    def test_bad_arguments(self, kwargs: dict[str, str], field: str) -> None:
        with pytest.raises(ConfigError) as info:
            configure_logging(stream=io.StringIO(), **kwargs)
        assert info.value.field == field
