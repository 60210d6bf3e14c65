# meetpulse app image: the `meetpulse` CLI (migrate, ingest, simulate, ...) and gunicorn for the web app.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs: never the build context's .env, .venv or data folders.
COPY pyproject.toml setup.cfg README.md ./
COPY meetpulse ./meetpulse
COPY ingest ./ingest
COPY queries ./queries
COPY dashboard ./dashboard
COPY assets ./assets

RUN pip install . \
    && useradd --create-home --uid 10001 meetpulse \
    && mkdir -p /app/meetpulse-data \
    && chown meetpulse /app/meetpulse-data

USER meetpulse
EXPOSE 8050 9108

CMD ["meetpulse", "--help"]
