"""Playout (bot -> caller) and send (caller -> bot) queues: bounds, marks, clear, start/end."""

from __future__ import annotations

import pytest

from voxpy.core.wsmedia import Outgoing, PlayoutQueue, SendQueue
from voxpy.core.wsmedia.playout import END_AFTER_FRAMES
from voxpy.errors import InvalidArgumentError

FRAME = 640  # 20 ms at 16 kHz


def pcm(frames: float, value: int = 1) -> bytes:
    return bytes([value, 0]) * int(frames * FRAME // 2)


class TestPlayout:
    def test_frames_come_out_in_order_whatever_the_piece_sizes(self) -> None:
        q = PlayoutQueue(16000)
        data = bytes(range(256)) * 10  # 2560 bytes: 4 frames
        for size in (2, 638, 100, 1000, 820):
            q.push(data[:size])
            data = data[size:]
        out = [q.pull().pcm for _ in range(4)]
        assert b"".join(p or b"" for p in out) == bytes(range(256)) * 10
        assert q.pull().pcm is None  # underrun: the I/O layer plays silence

    def test_a_short_tail_waits_for_more_audio(self) -> None:
        q = PlayoutQueue(16000)
        q.push(pcm(1.5))
        assert q.pull().pcm == pcm(1)
        assert q.pull().pcm is None
        assert q.queued_bytes == FRAME // 2
        q.push(pcm(0.5, 2))
        assert q.pull().pcm == pcm(0.5) + pcm(0.5, 2)

    def test_a_mark_is_echoed_when_the_audio_before_it_has_played(self) -> None:
        q = PlayoutQueue(16000)
        q.push(pcm(2))
        assert q.mark("a") == ()
        q.push(pcm(1))
        assert q.mark("b") == ()
        assert q.pull().marks == ()
        assert q.pull().marks == ("a",)
        assert q.pending_marks == ("b",)
        assert q.pull().marks == ("b",)

    def test_a_mark_with_nothing_queued_is_due_at_once(self) -> None:
        q = PlayoutQueue(16000)
        assert q.mark("now") == ("now",)
        q.push(pcm(1))
        q.pull()
        assert q.mark("after") == ("after",)

    def test_a_short_tail_before_a_mark_is_played_padded(self) -> None:
        q = PlayoutQueue(16000)
        q.push(pcm(1.25))
        q.mark("end")
        assert q.pull().marks == ()
        last = q.pull()
        assert last.pcm == pcm(0.25) + bytes(FRAME * 3 // 4)
        assert last.marks == ("end",)

    def test_clear_drops_the_audio_and_returns_every_pending_mark(self) -> None:
        q = PlayoutQueue(16000)
        q.push(pcm(3))
        q.mark("one")
        q.push(pcm(3))
        q.mark("two")
        q.pull()
        dropped, marks = q.clear()
        assert dropped == 5 * FRAME
        assert marks == ("one", "two")
        assert q.pull().pcm is None
        assert q.dropped_bytes == 0  # clearing is asked for, not a loss

    def test_audio_past_the_bound_drops_the_oldest_and_counts_it(self) -> None:
        q = PlayoutQueue(16000, max_seconds=0.1)  # 5 frames
        assert q.max_bytes == 5 * FRAME
        assert q.push(pcm(4, 1)) == 0
        assert q.push(pcm(3, 2)) == 2 * FRAME
        assert q.queued_bytes == 5 * FRAME
        assert q.queued_ms == 100
        assert q.dropped_bytes == 2 * FRAME
        assert [q.pull().pcm for _ in range(5)] == [pcm(1, 1)] * 2 + [pcm(1, 2)] * 3

    def test_dropping_part_of_a_frame_rounds_up_to_whole_frames(self) -> None:
        q = PlayoutQueue(16000, max_seconds=0.1)
        q.push(pcm(5))
        assert q.push(b"\x00\x00") == FRAME  # no half frames left behind
        assert q.queued_bytes == 4 * FRAME + 2

    def test_a_mark_over_dropped_audio_is_still_echoed(self) -> None:
        q = PlayoutQueue(16000, max_seconds=0.1)
        q.push(pcm(1))
        q.mark("early")
        q.push(pcm(6))  # pushes the first frames out
        assert q.pull().marks == ("early",)

    def test_default_bound_is_a_minute(self) -> None:
        assert PlayoutQueue(16000).max_bytes == 60 * 16000 * 2
        assert PlayoutQueue(8000).max_bytes == 60 * 8000 * 2

    def test_started_and_ended_after_a_second_of_nothing(self) -> None:
        q = PlayoutQueue(8000)
        assert not q.pull().ended  # never played: nothing to end
        q.push(bytes(320 * 3))
        ticks = [q.pull() for _ in range(3 + END_AFTER_FRAMES)]
        assert [t.started for t in ticks].count(True) == 1 and ticks[0].started
        assert [t.ended for t in ticks] == [False] * (2 + END_AFTER_FRAMES) + [True]
        assert ticks[-1].played_ms == 60
        assert not q.pull().ended  # once

    def test_audio_within_the_second_continues_the_same_playback(self) -> None:
        q = PlayoutQueue(8000)
        q.push(bytes(320))
        q.pull()
        for _ in range(END_AFTER_FRAMES - 1):
            assert not q.pull().ended
        q.push(bytes(320))
        assert not q.pull().started

    def test_bad_input_is_refused(self) -> None:
        with pytest.raises(InvalidArgumentError):
            PlayoutQueue(16000).push(b"\x00")
        with pytest.raises(InvalidArgumentError):
            PlayoutQueue(16000, max_seconds=0)
        with pytest.raises(InvalidArgumentError):
            PlayoutQueue(44100)


def media(i: int) -> Outgoing:
    return Outgoing(text=f"m{i}", media=True)


def control(name: str) -> Outgoing:
    return Outgoing(text=name)


class TestSendQueue:
    def test_in_order_when_the_server_reads(self) -> None:
        q = SendQueue()
        assert not q.extend([control("start"), media(1), media(2), control("stop")])
        assert [q.pop() for _ in range(5)] == ["start", "m1", "m2", "stop", None]

    def test_a_server_that_does_not_read_costs_a_bounded_queue(self) -> None:
        q = SendQueue(max_media=3)
        q.push(control("start"))
        firsts = [q.push(media(i)) for i in range(1000)]
        assert firsts.count(True) == 1 and firsts[3]  # one warning per stream, at the first drop
        assert q.warned
        assert q.dropped == 997
        assert q.media_queued == 3 and len(q) == 4
        assert [q.pop() for _ in range(4)] == ["start", "m997", "m998", "m999"]  # newest kept

    def test_control_is_kept_while_media_is_dropped(self) -> None:
        q = SendQueue(max_media=2)
        q.extend([media(1), control("dtmf 5"), media(2), media(3), control("mark")])
        assert [q.pop() for _ in range(4)] == ["dtmf 5", "m2", "m3", "mark"]

    def test_control_has_its_own_bound(self) -> None:
        q = SendQueue(max_media=2, max_control=2)
        assert q.extend([control("a"), control("b")]) is False
        assert q.push(control("c")) is True
        assert q.extend([control("d")]) is False  # only the first drop asks for a warning
        assert [q.pop(), q.pop(), q.pop()] == ["c", "d", None]

    def test_clear_forgets_everything(self) -> None:
        q = SendQueue()
        q.extend([control("a"), media(1)])
        assert q.clear() == 2
        assert q.pop() is None and q.media_queued == 0

    def test_bounds_must_be_positive(self) -> None:
        with pytest.raises(InvalidArgumentError):
            SendQueue(max_media=0)
