"""Celery application; configuration comes from Django settings (CELERY_*).

Both kinds of Celery process prove they are alive by touching a file, which Compose's health
checks (and anything else) read by age, with no broker round trip:
- a worker from a timer on its own event loop, so a hung consumer stops touching it;
- beat on every scheduler tick (at least every few seconds: the shortest interval in the schedule).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outagehub.settings")

app = Celery("outagehub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_SECONDS = 10.0


def _heartbeat_file(kind: str) -> Path:
    from django.conf import settings

    return Path(getattr(settings, f"OUTAGEHUB_{kind.upper()}_HEARTBEAT_FILE"))


def _touch(path: Path) -> None:
    # A read-only or missing folder must not stop the worker: the health check will say so.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)  # with Redis nothing else creates the data dir
        path.touch()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Touches OUTAGEHUB_WORKER_HEARTBEAT_FILE every 10 s from the worker's timer."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        path = _heartbeat_file("worker")
        _touch(path)
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, _touch, (path,), priority=10)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        _heartbeat_file("worker").unlink(missing_ok=True)


app.steps["worker"].add(WorkerHeartbeat)


class HeartbeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler that touches OUTAGEHUB_BEAT_HEARTBEAT_FILE on every tick."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        _touch(_heartbeat_file("beat"))
        return float(super().tick(*args, **kwargs))
