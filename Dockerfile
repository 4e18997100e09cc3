# voxpy SIP application server (single worker: up to 4 concurrent calls per process).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY voxpy ./voxpy
COPY scenarios ./scenarios
COPY config ./config
RUN pip install . && useradd --system --uid 10001 --home /app voxpy
USER voxpy

# SIP on UDP and TCP; RTP range as in config/voxpy.toml (rtp.port .. rtp.port + rtp.port_range).
EXPOSE 5060/udp 5060/tcp 10000-11000/udp
ENV VOXPY_SIP__HOST=0.0.0.0 VOXPY_LOG__FORMAT=json
ENTRYPOINT ["voxpy", "run"]
CMD ["scenarios/hello_hangup.py"]
