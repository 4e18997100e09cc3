# voxpy SIP application server: `voxpy serve` runs Kamailio on the public SIP port in front of
# N voxpy worker processes (4 calls each, the pjsua2 wheel's limit) plus the HTTP management
# API. Pinned to bookworm: its Kamailio 5.6 is what config/kamailio.cfg.tmpl is tested with.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /app
# Kamailio from Debian, by the same script .ci/run executes (so CI proves these steps).
# No Debian ffmpeg: voxpy uses the static one the imageio-ffmpeg wheel ships.
COPY scripts/install-system-deps.sh /usr/local/bin/install-system-deps.sh
RUN install-system-deps.sh --runtime && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY voxpy ./voxpy
COPY scenarios ./scenarios
COPY config ./config
RUN pip install . \
    && useradd --system --uid 10001 --home /app voxpy \
    && mkdir -p /app/recordings /app/.voxpy-cache \
    && chown voxpy:voxpy /app/recordings /app/.voxpy-cache
USER voxpy

# Recordings (media.recordings_dir) outlive the container.
VOLUME ["/app/recordings"]

# SIP (Kamailio) on UDP and TCP, the HTTP API, and RTP: the workers split
# rtp.port .. rtp.port + rtp.port_range between them and send media from there themselves.
EXPOSE 5060/udp 5060/tcp 8080/tcp 10000-11000/udp

# Workers bind RTP on every interface (callers send media to them directly); set
# VOXPY_SIP__PUBLIC_ADDRESS to the address callers reach the host at, and
# VOXPY_SERVER__TOKEN for the API (without one it listens on 127.0.0.1 only).
ENV VOXPY_SIP__HOST=0.0.0.0 VOXPY_SERVER__WORKER_HOST=0.0.0.0 VOXPY_LOG__FORMAT=json

HEALTHCHECK --interval=10s --timeout=3s --start-period=15s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"

# SIGTERM (docker stop) drains: no new calls, live calls finish (server.drain_timeout,
# 60 s), then everything exits 0. Give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["voxpy", "serve"]
CMD ["scenarios/hello_hangup.py", "--workers", "2"]
