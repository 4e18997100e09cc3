"""``voxpy flow JOURNAL -o call.svg``: a session's journal drawn as a ladder diagram.

JOURNAL is a journal file (``DIR/<session_id>.jsonl``, written by ``--journal-dir``) or a
session id, looked up in ``--journal-dir`` or the ``journal.dir`` setting. ``-o -`` writes
to stdout; ``--text`` writes a line per message instead of SVG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voxpy.cli.common import fail, write_stdout
from voxpy.config import load_settings
from voxpy.core.journal import Entry, flow_svg, flow_text, parse_journal
from voxpy.errors import ConfigError, InvalidArgumentError
from voxpy.runtime.journal import journal_path


def flow_command(args: argparse.Namespace) -> int:
    try:
        entries = _entries(args)
    except (ConfigError, InvalidArgumentError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read the journal: {exc.strerror or exc}")
    if not entries:
        return fail(f"{args.journal}: the journal is empty")
    text = flow_text(entries) if args.text else flow_svg(entries)
    if args.output == "-":
        return 0 if write_stdout(text) else 1
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    sys.stderr.write(f"voxpy flow: wrote {args.output} ({len(entries)} entries)\n")
    return 0


def _entries(args: argparse.Namespace) -> list[Entry]:
    source = Path(args.journal)
    if not source.is_file():
        directory = args.journal_dir or load_settings(args.config).journal.dir
        if directory is None:
            raise InvalidArgumentError(
                f"{args.journal}: no such file; to look a session id up, give --journal-dir "
                "(or set journal.dir)"
            )
        source = journal_path(Path(directory), args.journal)
        if not source.is_file():
            raise InvalidArgumentError(f"no journal of session {args.journal} in {directory}")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidArgumentError(f"{source}: not a journal (not UTF-8 text)") from None
    try:
        return parse_journal(text)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{source}: {exc}") from None
