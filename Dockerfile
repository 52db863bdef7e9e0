# One image for the web, worker, beat and migrate services (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MORTAR_DATA_DIR=/app/var

WORKDIR /app

# Only what the package and manage.py need: no .git, .venv, local databases or media.
COPY pyproject.toml constraints.txt manage.py ./
COPY mortar ./mortar
COPY models_registry ./models_registry
COPY apps ./apps
RUN pip install -c constraints.txt . \
    && MORTAR_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0

# The code stays root-owned and read-only to the app; only the data dir is writable.
RUN useradd --system --create-home --uid 10001 mortar \
    && mkdir -p /app/var \
    && chown mortar:mortar /app/var
USER mortar

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", \
     "--blocking-threads", "2", "mortar.wsgi:application"]
