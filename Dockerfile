FROM python:3.11-slim

# PROMETHEUS_MULTIPROC_DIR: the web processes' metrics, added up by /metrics (outagehub/gunicorn.py).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    OUTAGEHUB_DATA_DIR=/data OUTAGEHUB_STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/outagehub-metrics
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings to import; the key is build-time only.
RUN SECRET_KEY=build-only-not-secret-collectstatic-key-0123456789abcdef \
    python manage.py collectstatic --noinput -v 0 \
 && useradd --system --uid 1000 --home /app outagehub \
 && mkdir -p /data /tmp/outagehub-metrics && chown -R outagehub /data /tmp/outagehub-metrics

USER outagehub
EXPOSE 8000
# Bind, workers (GUNICORN_WORKERS, default 3), JSON logs without addresses, metrics: outagehub/gunicorn.py.
CMD ["gunicorn", "-c", "python:outagehub.gunicorn", "outagehub.wsgi"]
