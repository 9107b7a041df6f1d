FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    OUTAGEHUB_DATA_DIR=/data OUTAGEHUB_STATIC_ROOT=/app/staticfiles
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings to import; the key is build-time only.
RUN SECRET_KEY=build-only-not-secret-collectstatic-key-0123456789abcdef \
    python manage.py collectstatic --noinput -v 0 \
 && useradd --system --uid 1000 --home /app outagehub && mkdir -p /data && chown -R outagehub /data

USER outagehub
EXPOSE 8000
CMD ["gunicorn", "outagehub.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", \
     "--access-logformat", "%(t)s \"%(r)s\" %(s)s %(b)s %(L)ss"]
