"""``voxpy flow``: a journal file or a session id in a journal directory -> SVG or text; a
missing, hostile or broken journal exits 2 with one line saying why."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from voxpy.cli import main
from voxpy.core import signals as sig
from voxpy.core.journal import JournalBuffer, JournalLimits, SipMapper


def write_journal(directory: Path, session_id: str = "abc123") -> Path:
    b = JournalBuffer(session_id, started=0.0, wall="2026-11-30T08:00:00Z", limits=JournalLimits())
    incoming = sig.IncomingCall(call_id="a", from_uri="sip:1@h", to_uri="sip:2@h", callerid="1",
                                destination="2")  # fmt: skip
    for entry in SipMapper().signal(incoming):
        b.add(entry, 0.004)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{session_id}.jsonl"
    path.write_text(b.text())
    return path


def test_by_file_and_by_session_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_journal(tmp_path / "j")
    assert main(["flow", str(path), "-o", str(tmp_path / "a.svg")]) == 0
    root = ET.parse(tmp_path / "a.svg").getroot()
    assert "INVITE" in "".join(root.itertext())
    assert main(["flow", "abc123", "--journal-dir", str(tmp_path / "j"), "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch", "--journal-dir", "{d}"], "no journal of session nosuch"),
        (["../../etc/passwd", "--journal-dir", "{d}"], "not a session id"),
        (["nosuch"], "give --journal-dir"),
        (["{d}/bad.jsonl"], "line 2: not a journal entry"),
        (["{d}/empty.jsonl"], "the journal is empty"),
    ],
)
def test_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # no config/voxpy.toml with a journal.dir here
    good = write_journal(tmp_path)
    (tmp_path / "bad.jsonl").write_text(good.read_text().splitlines()[0] + "\n{not json\n")
    (tmp_path / "empty.jsonl").write_text("\n")
    argv = ["flow", *(a.format(d=tmp_path) for a in args), "-o", str(tmp_path / "x.svg")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()
