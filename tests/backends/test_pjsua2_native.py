"""The ctypes layer degrades per feature, and failures on the media thread are reported.

pjsua2 must stay out of the test process (see test_pjsua2_stays_out_of_the_test_process),
so the checks that load it run in a fresh interpreter; no endpoint is started there.
"""

from __future__ import annotations

import pytest

from tests.conftest import run_probe
from voxpy.backends import peerwire
from voxpy.backends.refusal import refusal
from voxpy.core.commands import Bye, Dial
from voxpy.core.signals import CommandFailed, Ended

PROBE = """
import pjsua2 as pj
from voxpy.backends.pjsua2 import native as n, pjsip_abi, ports

class Lines:
    def __init__(self): self.lines = []
    def warning(self, event, **kw): self.lines.append((event, kw))

# The verified wheel: every feature binds, nothing to report.
assert pjsip_abi.wheel_verified()
lib = n.Native()
assert lib.disabled == {}, lib.disabled
log = Lines(); lib.report(log); assert log.lines == []

# A missing symbol disables its feature only, with a reason and one log line.
real = n.FEATURES
n.FEATURES = {**real, n.TSX_END: (("pjsip_no_such_function", None, []),)}
lib = n.Native()
assert set(lib.disabled) == {n.TSX_END} and "pjsip_no_such_function" in lib.disabled[n.TSX_END]
assert lib.tsx_terminate(1, 408) == n.PJ_ENOTSUP
assert lib.available(n.INFO) and lib.available(n.REFER)
log = Lines(); lib.report(log)
assert [(e, kw["feature"]) for e, kw in log.lines] == [("native_feature_disabled", n.TSX_END)]
n.FEATURES = real

# Another wheel: only the features that read struct offsets go.
n.wheel_verified = lambda: False
lib = n.Native()
assert set(lib.disabled) == set(n.LAYOUT_FEATURES)
assert lib.simulate_tx_loss(1, 10) == n.PJ_ENOTSUP and lib.available(n.REFER)

# Frame reads: fast on this wheel, the layout-free copy elsewhere; same bytes.
vector = pj.ByteVector()
for value in (0, 7, 255):
    vector.append(value)
assert ports.vec_bytes(vector) == b"\\x00\\x07\\xff"
ports.wheel_verified = lambda: False
assert ports._frame_reader() is ports._vec_bytes_safe
assert ports._vec_bytes_safe(vector) == b"\\x00\\x07\\xff"

# A lost end of file is recorded (once) for the owner thread to log.
def broken(token):
    raise RuntimeError(f"queue gone ({token})")
player = ports.FilePlayer(41, broken)
player.onEof2(); player.onEof2()
assert ports.FAULTS.take() == [("player 41 end of file", "RuntimeError('queue gone (41)')")]
print("ok")
"""


def test_native_features_and_media_faults() -> None:
    result = run_probe(PROBE)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_one_refusal_rule() -> None:
    assert refusal(Dial(call_id="c1", uri="sip:x@h"), "stopped") == Ended(
        call_id="c1", code=503, reason="stopped"
    )
    assert refusal(Bye(call_id="c2"), "stopped") == CommandFailed(
        call_id="c2", op="Bye", message="stopped"
    )


def test_peer_lines_round_trip() -> None:
    line = peerwire.encode_line({"type": peerwire.READY, "contact_uri": "sip:a@b"})
    assert line == b'{"type":"Ready","contact_uri":"sip:a@b"}\n'
    assert peerwire.decode_line(line) == {"type": "Ready", "contact_uri": "sip:a@b"}
    for bad, words in ((b"[1]", "JSON object"), (b"{", "invalid JSON")):
        with pytest.raises(ValueError, match=words):
            peerwire.decode_line(bad)
