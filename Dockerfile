# Production image: migrations on start, then several workers against PostgreSQL.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PLANNER_HOST=0.0.0.0 \
    PLANNER_PORT=8000 \
    PLANNER_WORKERS=4

WORKDIR /srv/planner
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY curricula ./curricula
RUN pip install -e . && useradd --system --no-create-home planner
USER planner

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PLANNER_PORT\"]}/healthz')"
CMD ["sh", "-c", "planner migrate && planner load --if-empty && exec planner serve"]
