"""gunicorn settings for production (`gunicorn -c python:outagehub.gunicorn outagehub.wsgi`).

With PROMETHEUS_MULTIPROC_DIR set (the Docker image sets it), each web process keeps its metrics
in files there and /metrics adds them up: the folder is emptied when gunicorn starts, so a
restart does not add up a previous run's processes, and a dead worker's live gauges are dropped.
gunicorn's own logs are JSON lines like Django's, and its access log leaves out the client
address.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# Time, request line, status, bytes, seconds: no %(h)s, the client address is never logged.
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(L)ss'
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "outagehub.logs.RedactingFilter"}},
    "formatters": {"json": {"()": "outagehub.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"]}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
