FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/nexbot.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install ".[metrics]" \
    && useradd --create-home --uid 10001 nexbot \
    && mkdir -p /data \
    && chown nexbot:nexbot /data

USER nexbot
VOLUME ["/data"]
# Unhealthy when the bot has been off Discord's gateway for HEALTH_MAX_AGE_S (default 120 s).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["nexbot", "health"]
# `docker stop` sends SIGTERM: answers in flight get SHUTDOWN_GRACE_S (20 s) to finish, so
# give the container longer than that before it is killed (docker stop -t 30, stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["nexbot"]
