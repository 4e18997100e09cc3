"""Benchmark of the hearing detectors (issue 13) on a generated clip set; prints tables.

    python bench/hearing.py            # ~2 minutes on one core

Clips: espeak-ng speech (two voices), numpy tones and DTMF, at 8 and 16 kHz, each clean and
on a "line" (white noise 15 dB under a -20 dBFS talker, then G.711 mu-law both ways). All
deterministic (fixed seeds; espeak made deterministic by voxpy.media.hearing.synth).

Measured: accuracy of answering-machine, beep, progress-tone and DTMF detection; time to
decision (audio time, from the start of the clip or the end of the event); CPU per second of
audio per detector (process time, one call, one core); the two VADs' frame accuracy; ASR
word accuracy and real-time factor. The README's "Hearing the call" table comes from here.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voxpy.media.hearing import (
    AnsweringMachineDetector,
    BeepDetectionComplete,
    BeepDetector,
    DtmfDetector,
    ProgressTone,
    ProgressToneDetector,
    Result,
    Vad,
    create_recognizer,
    synth,
)
from voxpy.media.hearing.frames import dbfs, samples

RATES = (8000, 16000)
NOISE_SNR_DB = 15.0


def line(pcm: bytes, rate: int, seed: int) -> bytes:
    return synth.g711(synth.add_noise(pcm, NOISE_SNR_DB, seed=seed, ref_dbfs=-20), rate)


CONDITIONS: dict[str, Callable[[bytes, int, int], bytes]] = {
    "clean": lambda pcm, rate, seed: pcm,
    "line": line,
}
VOICES = (None, "en-us+f3")
HUMANS = ("Hello?", "Yes?", "Hello, this is Anna.", "Hi, who is calling?")
GREETINGS = (
    "Hi, you have reached the voicemail of John Smith. I am not available right now. "
    "Please leave your name and number after the tone.",
    "The person you are calling is not available. At the tone, please record your message. "
    "When you have finished recording, you may hang up.",
    "Thanks for calling Acme Plumbing. Our office is closed. Leave a message and we will "
    "call you back tomorrow morning.",
)
BEEPS = (1000.0, 800.0, 1400.0, 440.0)
PROMPTS = (
    "Please enter your account number, followed by the pound key.",
    "For sales, press one. For support, press two. To hear these options again, press nine.",
)
TONES: dict[str, tuple[tuple[float, ...], tuple[float, ...], ProgressTone, str]] = {
    "US busy": ((480, 620), (0.5, 0.5), ProgressTone.BUSY, "US"),
    "US ringback": ((440, 480), (2.0, 4.0), ProgressTone.RINGBACK, "US"),
    "US dial": ((350, 440), (8.0,), ProgressTone.DIAL, "US"),
    "EU busy": ((425,), (0.5, 0.5), ProgressTone.BUSY, "EU"),
    "EU ringback": ((425,), (1.0, 4.0), ProgressTone.RINGBACK, "EU"),
    "EU dial": ((425,), (8.0,), ProgressTone.DIAL, "EU"),
    "UK busy": ((400,), (0.375, 0.375), ProgressTone.BUSY, "UK"),
    "UK ringback": ((400, 450), (0.4, 0.2, 0.4, 2.0), ProgressTone.RINGBACK, "UK"),
    "fax CNG": ((1100,), (0.5, 3.0), ProgressTone.FAX_CNG, ""),
    "fax CED": ((2100,), (3.3, 1.0), ProgressTone.FAX_CED, ""),
}
DIGITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"]
MENU = ["sales", "support", "billing", "operator"]
ASR_SET = (
    ("one two three", DIGITS),
    ("four five six seven", DIGITS),
    ("nine eight zero two", DIGITS),
    ("sales", MENU),
    ("support", MENU),
    ("operator", MENU),
)


@dataclass
class Tally:
    """One detector's results over the clips."""

    right: int = 0
    total: int = 0
    decide_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    audio_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, ok: bool, note: str = "") -> None:
        self.right += ok
        self.total += 1
        if not ok and note:
            self.notes.append(note)

    def row(self, name: str) -> str:
        accuracy = f"{self.right}/{self.total} ({100 * self.right / max(self.total, 1):.0f}%)"
        decide = (
            f"{statistics.median(self.decide_ms):.0f} / {max(self.decide_ms):.0f}"
            if self.decide_ms
            else "-"
        )
        cpu = 1000 * self.cpu_s / max(self.audio_s, 1e-9)
        return f"| {name} | {accuracy} | {decide} | {cpu:.1f} |"


def timed(tally: Tally, rate: int, pcm: bytes, run: Callable[[], list[object]]) -> list[object]:
    start = time.process_time()
    out = run()
    tally.cpu_s += time.process_time() - start
    tally.audio_s += len(pcm) / 2 / rate
    return out


def ms(pcm: bytes, rate: int) -> int:
    return len(pcm) // 2 * 1000 // rate


def bench_amd_beep(amd: Tally, beep: Tally, clips: list[str]) -> None:
    seed = 100
    for rate in RATES:
        for cond, degrade in CONDITIONS.items():
            cases: list[tuple[bytes, str, int | None, float | None]] = []
            for voice in VOICES:
                for text in HUMANS:
                    speech = synth.speech(text, rate, voice=voice)
                    cases.append(
                        (
                            synth.silence(500, rate) + speech + synth.silence(3000, rate),
                            "human",
                            None,
                            None,
                        )
                    )
                for i, text in enumerate(GREETINGS):
                    f = BEEPS[(i + (voice is None)) % len(BEEPS)]
                    greeting = synth.silence(300, rate) + synth.speech(text, rate, voice=voice)
                    pcm = (
                        greeting
                        + synth.silence(300, rate)
                        + synth.tone([f], 400, rate, dbfs=-14)
                        + synth.silence(1500, rate)
                    )
                    cases.append((pcm, "voicemail", ms(greeting, rate) + 700, f))
            cases.append((synth.silence(6000, rate), "unknown", None, None))
            for clean_pcm, truth, beep_end, beep_hz in cases:
                seed += 1
                pcm = degrade(clean_pcm, rate, seed)
                clips.append(f"amd {truth} {rate} {cond}")
                detector = AnsweringMachineDetector(rate)
                (result,) = timed(amd, rate, pcm, lambda d=detector, p=pcm: d.feed(p) + d.finish())
                amd.add(result.audio_type == truth, f"{truth}->{result.audio_type} {rate} {cond}")
                amd.decide_ms.append(result.at_ms)
                beeper = BeepDetector(rate, timeout_ms=ms(pcm, rate) - 20)
                found = timed(beep, rate, pcm, lambda d=beeper, p=pcm: d.feed(p) + d.finish())
                heard = [b for b in found if isinstance(b, BeepDetectionComplete)]
                if beep_end is None:
                    beep.add(not heard, f"false beep {rate} {cond}")
                    continue
                ok = (
                    len(heard) == 1
                    and 0 <= heard[0].at_ms - beep_end <= 300
                    and abs(heard[0].frequencies[0] - (beep_hz or 0)) <= 10
                )
                beep.add(ok, f"beep {beep_hz} {rate} {cond}: {found}")
                if heard:
                    beep.decide_ms.append(heard[0].at_ms - beep_end)


def bench_tones(tones: Tally, clips: list[str]) -> None:
    seed = 500
    for rate in RATES:
        for cond, degrade in CONDITIONS.items():
            cases = [
                (synth.silence(300, rate) + synth.cadence(f, p, 6.0, rate), (tone, country))
                for f, p, tone, country in TONES.values()
            ]
            sit = (
                synth.silence(300, rate)
                + synth.tone([913.8], 276, rate)
                + synth.tone([1370.6], 276, rate)
                + synth.tone([1776.7], 380, rate)
                + synth.silence(1000, rate)
            )
            cases.append((sit, (ProgressTone.SIT, "")))
            speech = synth.speech(GREETINGS[0], rate) + synth.tone([1000], 400, rate)
            cases.append((speech, None))
            for clean_pcm, tone_truth in cases:
                seed += 1
                pcm = degrade(clean_pcm, rate, seed)
                clips.append(f"tone {tone_truth} {rate} {cond}")
                detector = ProgressToneDetector(rate)
                found = timed(tones, rate, pcm, lambda d=detector, p=pcm: d.feed(p))
                got = [(t.progress_tone, t.country) for t in found]
                expected = [tone_truth] if tone_truth else []
                tones.add(got == expected, f"{tone_truth} -> {got} {rate} {cond}")
                if found:
                    tones.decide_ms.append(found[0].at_ms - 300)


def bench_dtmf(dtmf: Tally, clips: list[str]) -> None:
    rng = random.Random(7)
    seed = 900
    for rate in RATES:
        for cond, degrade in CONDITIONS.items():
            cases = []
            for on_ms in (40, 60, 100):
                keys = "".join(rng.choice("0123456789*#ABCD") for _ in range(8))
                cases.append((synth.dtmf(keys, rate, on_ms=on_ms, off_ms=50), keys))
            for voice in VOICES:
                for text in PROMPTS:
                    cases.append((synth.speech(text, rate, voice=voice), ""))
            for keyed, truth in cases:
                seed += 1
                pcm = degrade(synth.silence(200, rate) + keyed, rate, seed)
                clips.append(f"dtmf {truth!r} {rate} {cond}")
                detector = DtmfDetector(rate)
                found = timed(dtmf, rate, pcm, lambda d=detector, p=pcm: d.feed(p))
                got = "".join(d.digit for d in found)
                dtmf.add(got == truth, f"{truth!r} -> {got!r} {rate} {cond}")


def energy_vad(pcm: bytes, rate: int) -> list[bool]:
    """The home-made baseline: speech when 9 dB over a tracked noise floor (and > -50 dBFS)."""
    size = rate // 50 * 2
    floor, out = -60.0, []
    for i in range(0, len(pcm) - size + 1, size):
        x = samples(pcm[i : i + size])
        level = dbfs(float(np.mean(x * x)))
        floor = level if level < floor else floor + 0.05 * (level - floor) * 0.1
        out.append(level > max(floor + 9.0, -50.0))
    return out


def bench_vad() -> list[str]:
    """Frame accuracy against the clean speech's own envelope (> -45 dBFS = speech)."""
    rows = []
    scores: dict[str, list[float]] = {"webrtcvad (mode 2)": [], "energy": []}
    cpu = dict.fromkeys(scores, 0.0)
    audio_s = 0.0
    seed = 1300
    for rate in RATES:
        for voice in VOICES:
            for text in (*HUMANS, *GREETINGS, *PROMPTS):
                speech = synth.silence(700, rate) + synth.speech(text, rate, voice=voice)
                size = rate // 50 * 2
                truth = [
                    dbfs(float(np.mean(samples(speech[i : i + size]) ** 2))) > -45
                    for i in range(0, len(speech) - size + 1, size)
                ]
                for snr in (10.0, 20.0, 30.0):
                    seed += 1
                    noisy = synth.g711(synth.add_noise(speech, snr, seed, ref_dbfs=-20), rate)
                    audio_s += len(noisy) / 2 / rate
                    start = time.process_time()
                    web = [f.raw for f in Vad(rate).feed(noisy)]
                    cpu["webrtcvad (mode 2)"] += time.process_time() - start
                    start = time.process_time()
                    energy = energy_vad(noisy, rate)
                    cpu["energy"] += time.process_time() - start
                    for name, got in (("webrtcvad (mode 2)", web), ("energy", energy)):
                        pairs = list(zip(truth, got, strict=False))
                        scores[name].append(sum(t == g for t, g in pairs) / len(pairs))
    for name, values in scores.items():
        rows.append(
            f"| {name} | {100 * statistics.mean(values):.1f}% | "
            f"{100 * min(values):.1f}% | {1000 * cpu[name] / audio_s:.1f} |"
        )
    return rows


def word_errors(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance in words (substitutions + deletions + insertions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def bench_asr(clips: list[str]) -> list[str]:
    rows = []
    seed = 1700
    for hinted in (True, False):
        for rate in RATES:
            for voice in VOICES:
                errors = words = exact = 0
                cpu = audio = 0.0
                for text, hints in ASR_SET:
                    for cond, degrade in CONDITIONS.items():
                        seed += 1
                        speech = synth.speech(text, rate, voice=voice)
                        pcm = degrade(
                            synth.silence(500, rate) + speech + synth.silence(1500, rate),
                            rate,
                            seed,
                        )
                        clips.append(f"asr {text!r} {rate} {cond}")
                        start = time.process_time()
                        recognizer = create_recognizer()
                        recognizer.start(rate, "en-US", hints if hinted else [], True)
                        events = recognizer.feed(pcm) + recognizer.finish()
                        cpu += time.process_time() - start
                        audio += len(pcm) / 2 / rate
                        results = [e for e in events if isinstance(e, Result)]
                        heard = results[0].text.split() if results else []
                        errors += word_errors(text.split(), heard)
                        words += len(text.split())
                        exact += heard == text.split()
                rows.append(
                    f"| {'hints' if hinted else 'open'} | {rate} | {voice or 'default'} "
                    f"| {100 * (1 - errors / words):.0f}% | {exact}/{2 * len(ASR_SET)} "
                    f"| {cpu / audio:.3f} |"
                )
    return rows


def out(text: str = "") -> None:
    print(text)  # noqa: T201 - a benchmark reports on stdout


def main() -> None:
    clips: list[str] = []
    amd, beep, tones, dtmf = Tally(), Tally(), Tally(), Tally()
    started = time.perf_counter()
    bench_amd_beep(amd, beep, clips)
    bench_tones(tones, clips)
    bench_dtmf(dtmf, clips)
    vad_rows = bench_vad()
    asr_rows = bench_asr(clips)
    out(
        f"{len(clips)} clips (plus {len(vad_rows) and 2 * 2 * 9 * 3} VAD clips), "
        f"{time.perf_counter() - started:.0f} s\n"
    )
    out("| detector | accuracy | decision ms (median / max) | CPU ms per s of audio |")
    out("| --- | --- | --- | --- |")
    out(amd.row("AMD (human / voicemail / unknown)"))
    out(beep.row("beep (within 300 ms of its end, ±10 Hz; none where none)"))
    out(tones.row("progress tones (US/EU/UK, SIT, fax; none in speech)"))
    out(dtmf.row("in-band DTMF (8-digit strings; none in prompts)"))
    out(
        "\nAMD decision: audio time from the clip's start; beep: from the beep's end; "
        "tones: from the tone's start.\n"
    )
    out("| VAD | frame accuracy (mean) | worst clip | CPU ms per s of audio |")
    out("| --- | --- | --- | --- |")
    out("\n".join(vad_rows))
    out("\n| ASR grammar | rate | espeak voice | word accuracy | exact | real-time factor |")
    out("| --- | --- | --- | --- | --- | --- |")
    out("\n".join(asr_rows))
    for tally, name in ((amd, "AMD"), (beep, "beep"), (tones, "tones"), (dtmf, "DTMF")):
        for note in tally.notes:
            out(f"miss {name}: {note}")


if __name__ == "__main__":
    main()
