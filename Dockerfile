# PyWhatsApp in a container. Point DATABASE_URL at your PostgreSQL; without it the embedded database is
# kept under /data (mount a volume there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYWHATSAPP_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml setup.py README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --create-home pywhatsapp \
    && mkdir -p /data && chown pywhatsapp /data

USER pywhatsapp
VOLUME ["/data"]
EXPOSE 8002
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8002/readyz')"
CMD ["pywhatsapp", "serve", "--host", "0.0.0.0", "--port", "8002"]
