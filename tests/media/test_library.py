"""The media library takes its knobs from the settings."""

from __future__ import annotations

from pathlib import Path

from voxpy.config import load_settings
from voxpy.media.library import FileMediaLibrary


def test_fetch_timeout_and_directories_come_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        env={},
        overrides={
            "media.fetch_timeout": 3.5,
            "media.cache_dir": str(tmp_path / "cache"),
            "media.recordings_dir": str(tmp_path / "rec"),
        },
    )
    library = FileMediaLibrary.from_settings(settings)
    assert library._media.fetch_timeout == 3.5
    assert library.cache_dir == tmp_path / "cache"
    assert library.recording_path("x.mp3") == str((tmp_path / "rec" / "x.mp3").resolve())
