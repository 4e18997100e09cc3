"""Media preparation for the pjsua2 player, which plays only WAV files.

ffmpeg (the binary shipped by ``imageio-ffmpeg``, else one on ``PATH``) decodes any input to
raw mono 16-bit samples on a pipe; the :mod:`wave` module writes the header, so the output is a
plain PCM WAV with no extra chunks. pydub is not used (it warns at import without ffmpeg on
``PATH``). Every function here blocks: call it from a worker thread.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.client
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import wave
from pathlib import Path

import structlog

from voxpy.errors import MediaError

log = structlog.get_logger("voxpy.media")

_CONTENT_TYPES = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/wav": ".wav",
    "audio/wave": ".wav",
    "audio/x-wav": ".wav",
    "audio/ogg": ".ogg",
    "application/ogg": ".ogg",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
}
_FFMPEG_TIMEOUT = 300.0


@functools.cache
def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary: imageio-ffmpeg's, else ``ffmpeg`` on PATH; MediaError if none."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError, OSError):
        found = shutil.which("ffmpeg")
        if found is None:
            raise MediaError(
                "ffmpeg not found: install imageio-ffmpeg or put ffmpeg on PATH"
            ) from None
        return found


def write_wav(dst: Path, pcm: bytes, rate: int) -> None:
    """Atomically write mono 16-bit little-endian ``pcm`` samples to ``dst`` as a WAV file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def to_wav(src: Path, dst: Path, rate: int = 16000, *, tempo: float = 1.0) -> float:
    """Convert WAV/MP3/OGG/FLAC ``src`` to a mono 16-bit PCM WAV at ``rate``; return seconds.

    ``tempo`` speeds speech up (>1) or slows it down (<1) without changing pitch (0.5-4).
    ``dst`` is replaced atomically. Undecodable input raises MediaError naming the file.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(src), "-vn"]
    if tempo != 1.0:
        cmd += ["-af", f"atempo={min(max(tempo, 0.5), 4.0):.3f}"]
    cmd += ["-ac", "1", "-ar", str(rate), "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=_FFMPEG_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"cannot decode {src.name}: ffmpeg timed out") from exc
    except OSError as exc:
        raise MediaError(f"cannot run ffmpeg: {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1].replace(str(src), src.name) if lines else "no audio stream"
        raise MediaError(f"cannot decode {src.name}: {reason}")
    write_wav(dst, done.stdout, rate)
    return len(done.stdout) / 2 / rate


def wav_duration(path: Path) -> float:
    """Duration in seconds of a PCM WAV file; MediaError if it is not one."""
    return wav_shape(path)[1]


def wav_shape(path: Path) -> tuple[int, float]:
    """``(sample_rate, seconds)`` of a PCM WAV file; MediaError if it is not one."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            return rate, wav.getnframes() / rate
    except (OSError, EOFError, wave.Error) as exc:
        raise MediaError(f"cannot read WAV {path.name}: {exc}") from exc


def _safe_url(url: str) -> str:
    """The URL without query and fragment (they may carry tokens) and with its password shown
    as ``***`` (voxpy.core.redact's rule; this module is a leaf, so it applies it itself), for
    messages and logs."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{netloc.rpartition('@')[0].partition(':')[0]}:***@{netloc.rpartition('@')[2]}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _request(url: str) -> urllib.request.Request:
    """The GET of ``url``; credentials in it (``user:password@``) become HTTP Basic auth, as
    a browser or curl would use them (urllib would take them for part of the host name)."""
    parts = urllib.parse.urlsplit(url)
    headers = {"User-Agent": "voxpy"}
    if parts.username is not None:
        pair = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        netloc += f":{parts.port}" if parts.port is not None else ""
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return urllib.request.Request(url, headers=headers)


def _extension(url: str, content_type: str) -> str:
    suffix = Path(urllib.parse.urlsplit(url).path).suffix.lower()
    if 1 < len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return _CONTENT_TYPES.get(content_type.partition(";")[0].strip().lower(), ".bin")


def fetch(
    url: str, cache_dir: Path, timeout: float = 12.0, max_bytes: int = 10 * 1024 * 1024
) -> Path:
    """Download an http(s) URL into ``cache_dir`` (once: cached by sha256 of the URL).

    The file keeps the extension of the URL path or of its Content-Type. HTTP errors,
    timeouts (``timeout`` bounds the whole download), refused connections, bodies larger
    than ``max_bytes`` and non-http schemes raise MediaError. Cached files never expire.
    """
    if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
        raise MediaError(f"cannot fetch URL: only http(s) is supported ({_safe_url(url)})")
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()
    cached = sorted(cache_dir.glob(f"{key}.*"))
    if cached:
        return cached[0]
    cache_dir.mkdir(parents=True, exist_ok=True)
    where = _safe_url(url)
    deadline = time.monotonic() + timeout
    request = _request(url)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=cache_dir)
    tmp = Path(tmp_name)
    started = time.perf_counter()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise MediaError(f"cannot fetch URL: {length} bytes exceeds {max_bytes} ({where})")
            size = 0
            while chunk := resp.read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaError(f"cannot fetch URL: larger than {max_bytes} bytes ({where})")
                if time.monotonic() > deadline:
                    raise MediaError(f"cannot fetch URL: timed out after {timeout:g} s ({where})")
                out.write(chunk)
            final = cache_dir / f"{key}{_extension(url, resp.headers.get_content_type())}"
        os.replace(tmp, final)
    except urllib.error.HTTPError as exc:
        raise MediaError(f"cannot fetch URL: {exc.code} {exc.reason} ({where})") from exc
    except urllib.error.URLError as exc:
        raise MediaError(f"cannot fetch URL: {exc.reason} ({where})") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise MediaError(f"cannot fetch URL: {exc or type(exc).__name__} ({where})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    elapsed = round(time.perf_counter() - started, 3)
    log.info("media_fetched", url=where, bytes=size, seconds=elapsed)
    return final


class MediaCache:
    """Turns a local path or http(s) URL into a ready WAV for the player, converting once.

    Converted files live in ``cache_dir/wav`` (downloads in ``cache_dir/download``). A local
    file is keyed by its absolute path, mtime and size, so an edited file is converted again;
    a URL is keyed by the URL (downloads never expire). Blocking; thread-safe.
    """

    def __init__(self, cache_dir: Path, rate: int = 16000, fetch_timeout: float = 12.0) -> None:
        self.cache_dir = cache_dir
        self.rate = rate
        self.fetch_timeout = fetch_timeout

    def prepare(self, source: str) -> tuple[Path, float]:
        """Return ``(wav_path, duration_seconds)`` for ``source``; MediaError on any failure."""
        if "://" in source:
            src = fetch(source, self.cache_dir / "download", timeout=self.fetch_timeout)
            identity = f"url:{source}"
        else:
            src = Path(source).expanduser().resolve()
            try:
                info = src.stat()
            except OSError as exc:
                raise MediaError(f"no such media file: {source}") from exc
            identity = f"file:{src}:{info.st_mtime_ns}:{info.st_size}"
        key = hashlib.sha256(f"{identity}:{self.rate}".encode()).hexdigest()
        wav = self.cache_dir / "wav" / f"{key}.wav"
        if wav.exists():
            return wav, wav_duration(wav)
        started = time.perf_counter()
        duration = to_wav(src, wav, self.rate)
        elapsed = round(time.perf_counter() - started, 3)
        log.debug("media_converted", source=src.name, seconds=elapsed)
        return wav, duration
