# The veille image: `veille worker` by default; any other `veille` command as arguments
# (e.g. `docker run veille:local simulate --speedup 60`). Built by docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package needs (no tests, venv or caches in the image). The package data
# (e.g. the shipped sentiment model, pipeline/sentiment/*.json.gz) comes with `pipeline`.
COPY pyproject.toml ./
COPY pipeline ./pipeline
COPY agents ./agents
RUN pip install . \
 && cd / && rm -rf /src \
 && python -c "import agents.app, pipeline.engine" \
 && useradd --system --uid 10001 --home-dir /var/lib/veille --create-home veille

USER veille
WORKDIR /var/lib/veille
# In a container /metrics must listen on every interface (the default is loopback only).
ENV VEILLE_METRICS_HOST=0.0.0.0 \
    VEILLE_METRICS_PORT=9464 \
    VEILLE_WEB_PORT=0 \
    VEILLE_DATA_DIR=/var/lib/veille/data
EXPOSE 9464

ENTRYPOINT ["veille"]
CMD ["worker"]
