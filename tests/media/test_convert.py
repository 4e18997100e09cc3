"""Media conversion and download: real ffmpeg on real files, a local HTTP server, no network."""

from __future__ import annotations

import ast
import math
import socket
import subprocess
import sys
import threading
import time
import wave
from array import array
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voxpy.errors import MediaError
from voxpy.media import convert
from voxpy.media.convert import MediaCache, fetch, ffmpeg_exe, to_wav, wav_duration

SECONDS = 2.0


def write_stereo_tone(path: Path, seconds: float = SECONDS, rate: int = 44100) -> Path:
    frames = array("h")
    for i in range(round(seconds * rate)):
        value = round(10000 * math.sin(2 * math.pi * 440 * i / rate))
        frames.extend((value, value))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())
    return path


def encode(src: Path, dst: Path) -> Path:
    codec = {".mp3": "libmp3lame", ".ogg": "libvorbis", ".flac": "flac", ".wav": "pcm_s16le"}
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(src),
            "-c:a",
            codec[dst.suffix],
            str(dst),
        ],
        check=True,
        timeout=60,
    )
    return dst


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stereo_tone(tmp_path_factory.mktemp("tone") / "tone.wav")


class Server:
    """A local HTTP server: ``routes`` maps a path to (status, content type, body, delay)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, float]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                status, ctype, body, delay = server.routes.get(
                    self.path, (404, "text/plain", b"missing", 0.0)
                )
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name in (
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    srv = Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    thread.join(5)


class TestToWav:
    """Any supported input becomes mono 16-bit PCM at the asked rate, same duration."""

    @pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".flac", ".wav"])
    @pytest.mark.parametrize("rate", [8000, 16000])
    def test_formats_round_trip(self, tone: Path, tmp_path: Path, suffix: str, rate: int) -> None:
        src = encode(tone, tmp_path / f"in{suffix}")
        out = tmp_path / "out.wav"
        duration = to_wav(src, out, rate)
        assert duration == pytest.approx(SECONDS, rel=0.05)
        assert wav_duration(out) == pytest.approx(duration)
        with wave.open(str(out), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, rate)
        assert out.read_bytes()[36:40] == b"data"  # plain 44-byte header, no extra chunks

    def test_tempo_changes_duration(self, tone: Path, tmp_path: Path) -> None:
        assert to_wav(tone, tmp_path / "fast.wav", tempo=2.0) == pytest.approx(1.0, rel=0.05)

    def test_garbage_is_a_media_error_with_name_and_reason(self, tmp_path: Path) -> None:
        junk = tmp_path / "junk.mp3"
        junk.write_bytes(b"this is not audio at all" * 100)
        with pytest.raises(MediaError, match=r"cannot decode junk\.mp3: .+") as info:
            to_wav(junk, tmp_path / "out.wav")
        assert "\n" not in str(info.value)
        assert str(tmp_path) not in str(info.value)
        assert not (tmp_path / "out.wav").exists()

    def test_missing_file_is_a_media_error(self, tmp_path: Path) -> None:
        with pytest.raises(MediaError, match=r"nothing\.ogg"):
            to_wav(tmp_path / "nothing.ogg", tmp_path / "out.wav")

    def test_wav_duration_rejects_non_wav(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.wav"
        bad.write_bytes(b"RIFF????nope")
        with pytest.raises(MediaError, match=r"bad\.wav"):
            wav_duration(bad)


class TestFfmpegExe:
    """imageio-ffmpeg's binary first, then PATH, else a clear error."""

    def test_found_and_runs(self) -> None:
        result = subprocess.run(
            [ffmpeg_exe(), "-version"], capture_output=True, timeout=30, check=True
        )
        assert result.stdout.startswith(b"ffmpeg version")

    def test_none_available(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import imageio_ffmpeg  # type: ignore[import-untyped]

        def missing() -> str:
            raise RuntimeError("no ffmpeg")

        monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", missing)
        monkeypatch.setattr("shutil.which", lambda name: None)
        ffmpeg_exe.cache_clear()
        try:
            with pytest.raises(MediaError, match="ffmpeg not found"):
                ffmpeg_exe()
        finally:
            ffmpeg_exe.cache_clear()

    def test_import_prints_nothing(self) -> None:
        code = "import voxpy.media.tts, voxpy.media.convert, voxpy.media.tones"
        result = subprocess.run(
            [sys.executable, "-W", "error", "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


class TestFetch:
    """http(s) downloads with a timeout, a size cap and a cache."""

    def test_download_is_cached(self, server: Server, tmp_path: Path) -> None:
        server.routes["/prompts/hello.mp3"] = (200, "audio/mpeg", b"ID3 fake mp3", 0.0)
        url = f"{server.base}/prompts/hello.mp3"
        first = fetch(url, tmp_path)
        assert first.suffix == ".mp3"
        assert first.read_bytes() == b"ID3 fake mp3"
        assert fetch(url, tmp_path) == first
        assert server.hits == ["/prompts/hello.mp3"]
        assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]

    def test_extension_from_content_type(self, server: Server, tmp_path: Path) -> None:
        server.routes["/play?id=7"] = (200, "audio/ogg; codecs=vorbis", b"OggS", 0.0)
        assert fetch(f"{server.base}/play?id=7", tmp_path).suffix == ".ogg"

    def test_http_error(self, server: Server, tmp_path: Path) -> None:
        with pytest.raises(MediaError, match="cannot fetch URL: 404 Not Found"):
            fetch(f"{server.base}/missing.wav?token=secret", tmp_path)
        assert list(tmp_path.iterdir()) == []

    def test_too_large(self, server: Server, tmp_path: Path) -> None:
        server.routes["/big.wav"] = (200, "audio/wav", b"x" * 5000, 0.0)
        with pytest.raises(MediaError, match="exceeds 1000"):
            fetch(f"{server.base}/big.wav", tmp_path, max_bytes=1000)
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.realtime  # a server that answers after 2 s
    def test_timeout(self, server: Server, tmp_path: Path) -> None:
        server.routes["/slow.wav"] = (200, "audio/wav", b"RIFF", 2.0)
        started = time.perf_counter()
        with pytest.raises(MediaError, match="timed out"):
            fetch(f"{server.base}/slow.wav", tmp_path, timeout=0.3)
        assert time.perf_counter() - started < 1.5

    def test_connection_refused_fails_fast(self, tmp_path: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        started = time.perf_counter()
        with pytest.raises(MediaError, match="cannot fetch URL"):
            fetch(f"http://127.0.0.1:{port}/a.wav", tmp_path)
        assert time.perf_counter() - started < 2

    @pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.wav", "a.wav"])
    def test_other_schemes_are_refused(self, url: str, tmp_path: Path) -> None:
        with pytest.raises(MediaError, match=r"only http\(s\)"):
            fetch(url, tmp_path)


class TestMediaCache:
    """``prepare`` converts once per file version or URL and reports the duration."""

    def test_local_file(self, tone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        src = encode(tone, tmp_path / "music.flac")
        cache = MediaCache(tmp_path / "cache", rate=8000)
        wav, duration = cache.prepare(str(src))
        assert duration == pytest.approx(SECONDS, rel=0.05)
        with wave.open(str(wav), "rb") as w:
            assert w.getframerate() == 8000
        calls: list[Path] = []

        def counting_to_wav(src: Path, *args: object, **kwargs: object) -> float:
            calls.append(src)
            return 0.0

        monkeypatch.setattr(convert, "to_wav", counting_to_wav)
        assert cache.prepare(str(src)) == (wav, duration)
        assert calls == []  # served from the cache: nothing converted

    def test_edited_file_is_converted_again(self, tone: Path, tmp_path: Path) -> None:
        src = tmp_path / "prompt.wav"
        write_stereo_tone(src, seconds=1.0)
        cache = MediaCache(tmp_path / "cache")
        first, _ = cache.prepare(str(src))
        write_stereo_tone(src, seconds=1.5)
        second, duration = cache.prepare(str(src))
        assert second != first
        assert duration == pytest.approx(1.5, rel=0.05)

    def test_url(self, tone: Path, server: Server, tmp_path: Path) -> None:
        server.routes["/hold.mp3"] = (
            200,
            "audio/mpeg",
            encode(tone, tmp_path / "hold.mp3").read_bytes(),
            0.0,
        )
        cache = MediaCache(tmp_path / "cache")
        wav, duration = cache.prepare(f"{server.base}/hold.mp3")
        assert duration == pytest.approx(SECONDS, rel=0.05)
        assert cache.prepare(f"{server.base}/hold.mp3") == (wav, duration)
        assert server.hits == ["/hold.mp3"]

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(MediaError, match="no such media file"):
            MediaCache(tmp_path).prepare(str(tmp_path / "gone.mp3"))


class TestPackageBoundary:
    """TTS, conversion and tones are leaves: from voxpy they import only errors and each other."""

    @pytest.mark.parametrize("module", ["__init__", "convert", "espeak", "tones", "tts"])
    def test_imports(self, module: str) -> None:
        tree = ast.parse((ROOT / "voxpy" / "media" / f"{module}.py").read_text(encoding="utf-8"))
        imported = [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        ]
        imported += [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        ours = {name for name in imported if name.split(".")[0] == "voxpy"}
        assert ours <= {"voxpy.errors", "voxpy.media.convert", "voxpy.media.espeak"}
