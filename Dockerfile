# Production image: uvicorn with its C parsers (uvloop/httptools), PostgreSQL via DATABASE_URL.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PICCOLO_CONF=piccolo_conf \
    HOST=0.0.0.0 \
    PORT=8000

# poppler, qpdf and zbar are the tools the certificate checks use; the certificate font ships in the repo.
RUN apt-get update && apt-get install -y --no-install-recommends qpdf poppler-utils zbar-tools \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
# Editable install: templates, static files and migrations are found beside src/ (settings.PROJECT_ROOT).
RUN pip install --no-cache-dir -e . \
    && useradd --system --home /app zhicheng \
    && mkdir -p /app/var && chown zhicheng /app/var
USER zhicheng

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"
# Migrations and presets are idempotent, so every start brings the database up to date first.
CMD ["sh", "-c", "zhicheng setup && exec zhicheng serve"]
