# syntax=docker/dockerfile:1
# One image for every portal service (web, worker, beat, migrate); docker-compose.yml picks the command.

# Compiled translations: msgfmt is only needed at build time, so it stays in this stage.
FROM python:3.11-slim-bookworm AS messages
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY locale /src/locale
RUN find /src/locale -name '*.po' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \;

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles

# WeasyPrint's system libraries (Pango, HarfBuzz incl. subsetting, libffi) and CJK fonts for the
# Chinese PDFs; poppler-utils (pdftoppm) draws the report's pages a customer reads before
# signing. No openssh-client: hosts are reached with paramiko.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libffi8 fonts-noto-cjk poppler-utils \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home --shell /usr/sbin/nologin portal

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays owned by root (read-only for the portal user); only var/ is writable.
COPY . .
COPY --from=messages /src/locale ./locale

# Static files are part of the image (served by WhiteNoise). DEBUG=false selects the manifest
# storage; the key below only satisfies the settings at build time and is never used at run time.
RUN DEBUG=false SECRET_KEY=build-time-only-collectstatic-key-not-used-at-run-time-0123456789 \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media /app/var/celery \
    && chown -R portal:portal /app/var

USER portal
EXPOSE 8000

# docker-compose.yml sets the command of each service; this default is the web server.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", "--timeout", "120"]
