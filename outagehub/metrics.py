"""Prometheus metrics at /metrics: what intake answered, and the state of the queues, detection and probes.

Two kinds of figures:
- Counters and the latency histogram of report intake live in the web processes. Under gunicorn
  each worker process has its own memory, so with PROMETHEUS_MULTIPROC_DIR set (the Docker image
  sets it; gunicorn's config, outagehub/gunicorn.py, empties it at start and tidies after a dead
  worker) prometheus-client keeps them in files there and /metrics adds up every process's.
- Everything else is read when scraped, from where it is true whichever process did the work:
  queue lengths from the broker, detection lag, probe outcomes and webhook deliveries from the
  database. So workers need no metrics endpoint of their own, and scaling them out changes nothing.

/metrics is answered before the Host check (Prometheus scrapes by address, like a health check)
and only to a client with the token (`Authorization: Bearer <OUTAGEHUB_METRICS_TOKEN>`) or whose
socket peer is in OUTAGEHUB_METRICS_NETWORKS (default loopback). The socket peer, not
X-Forwarded-For: a proxy in front must not make the internet a trusted network.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REPORTS = Counter(
    "outagehub_reports",
    "Reports answered by intake: accepted (201), queued while the database is down (202), or rejected, by reason.",
    ["channel", "outcome", "reason"],
)
REPORTS_COUNTED = Counter(
    "outagehub_reports_counted",
    "Accepted reports by whether they entered the counts (reason: why not).",
    ["channel", "counted", "reason"],
)
INTAKE_SECONDS = Histogram(
    "outagehub_intake_seconds",
    "Time to answer a report, in seconds, whatever the answer.",
    ["channel"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Route names of the report endpoints (reports/api/urls.py, reports/web/urls.py) and their channel.
INTAKE_ROUTES = {"report-create": "api", "reports:report": "web"}
REJECTED = {
    400: "invalid",
    403: "forbidden",
    404: "not_found",
    405: "method",
    413: "too_large",
    415: "media_type",
    429: "throttled",
    503: "unavailable",
}


_children: dict[tuple[object, ...], Any] = {}


def _labelled(metric: Any, *values: str) -> Any:
    """`metric.labels(*values)`, kept: prometheus-client takes a lock and checks the values on every
    call, which cost the report path more than the count itself. The label values come from small
    fixed sets (channels, outcomes, reasons), so this stays small.
    """
    key = (metric, *values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


def report_counted(*, channel: str, counted: bool, reason: str | None = None) -> None:
    """Note whether an accepted report entered the counts (one line in the intake views)."""
    _labelled(REPORTS_COUNTED, channel, "true" if counted else "false", reason or "").inc()


class IntakeMetricsMiddleware:
    """Counts and times the answers of the report endpoints, whatever answered them (view, throttle, error)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        channel = _intake_channel(request) if request.method == "POST" else None
        if channel is not None:
            intake_answered(channel=channel, status=response.status_code, seconds=time.perf_counter() - started)
        return response


def intake_answered(*, channel: str, status: int, seconds: float) -> None:
    """Count and time one answer of a report endpoint (this middleware, and the intake front before Django)."""
    _labelled(INTAKE_SECONDS, channel).observe(seconds)
    if status == 201:
        _labelled(REPORTS, channel, "accepted", "").inc()
    elif status == 202:
        _labelled(REPORTS, channel, "queued", "database_down").inc()
    elif status >= 400:
        reason = REJECTED.get(status, "error" if status >= 500 else "client_error")
        _labelled(REPORTS, channel, "rejected", reason).inc()


def _intake_channel(request: HttpRequest) -> str | None:
    """The intake route a POST went to, also when it was answered before URL resolution (the flood gate)."""
    match = request.resolver_match
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return INTAKE_ROUTES.get(match.view_name)


# --- read at scrape time -----------------------------------------------------------------


def _queue_names() -> list[str]:
    regions = set(settings.PROBES_DEFAULT_REGIONS)
    try:
        for listed in apps.get_model("probes", "Probe").objects.filter(enabled=True).values_list("regions", flat=True):
            regions.update(listed or [])
    except DatabaseError:
        pass
    return ["celery", *sorted(f"probes.{region}" for region in regions)]


def queue_lengths(names: list[str]) -> dict[str, int]:
    """Messages waiting per queue, from the broker itself."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            # Kombu keeps one list per queue and priority step ("celery", "celery\x06\x163", ...).
            return {name: sum(int(client.llen(key)) for key in _redis_queue_keys(name)) for name in names}
        finally:
            client.close()
    folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    # The filesystem transport names each message <time>_<uuid>.<queue>.msg.
    files = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return {name: sum(1 for f in files if f.endswith(f".{name}.msg")) for name in names}


def _redis_queue_keys(name: str) -> list[str]:
    return [name, *(f"{name}\x06\x16{step}" for step in (1, 2, 3, 4, 5, 6, 7, 8, 9))]


class StateCollector(Collector):
    """Gauges read from the broker and the database at each scrape."""

    def describe(self) -> list[GaugeMetricFamily]:
        # Without it, registering would call collect() at import: queries while migrating, say.
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        queues = GaugeMetricFamily("outagehub_queue_length", "Messages waiting in a Celery queue.", labels=["queue"])
        up = GaugeMetricFamily("outagehub_broker_up", "1 if the broker answered this scrape.")
        try:
            for name, length in queue_lengths(_queue_names()).items():
                queues.add_metric([name], length)
            up.add_metric([], 1)
        except Exception:  # any broker failure: report it as a value, never fail the scrape
            logger.warning("metrics: the broker did not answer", exc_info=True)
            up.add_metric([], 0)
        yield queues
        yield up
        try:
            yield from self._database(now)
        except DatabaseError:
            logger.warning("metrics: the database did not answer", exc_info=True)

    def _database(self, now: dt.datetime) -> Iterator[GaugeMetricFamily]:
        last = apps.get_model("reports", "DetectorState").objects.filter(
            service__active=True, last_minute__isnull=False
        )
        oldest = last.order_by("last_minute").values_list("last_minute", flat=True).first()
        lag = GaugeMetricFamily(
            "outagehub_detection_lag_seconds",
            "Now minus the end of the last minute detection processed, for the service furthest behind.",
        )
        if oldest is not None:
            lag.add_metric([], (now - oldest).total_seconds() - 60)
        yield lag

        hour_ago = now - dt.timedelta(hours=1)
        outcomes = GaugeMetricFamily(
            "outagehub_probe_results_last_hour", "Probe check results of the last hour by outcome.", labels=["outcome"]
        )
        results = apps.get_model("probes", "ProbeResult").objects.filter(checked_at__gte=hour_ago)
        for outcome, count in _counts(results, "outcome"):
            outcomes.add_metric([outcome], count)
        yield outcomes

        deliveries = GaugeMetricFamily(
            "outagehub_webhook_deliveries", "Webhook deliveries by status (failed: gave up).", labels=["status"]
        )
        for status, count in _counts(apps.get_model("reports", "WebhookDelivery").objects.all(), "status"):
            deliveries.add_metric([status], count)
        yield deliveries
        failing = GaugeMetricFamily(
            "outagehub_webhook_deliveries_failing",
            "Deliveries still pending after at least one failed attempt (retrying).",
        )
        pending = apps.get_model("reports", "WebhookDelivery").objects.filter(status="pending", attempts__gte=1)
        failing.add_metric([], pending.count())
        yield failing


def _counts(queryset, field: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    from django.db.models import Count

    return [(row[field], row["n"]) for row in queryset.values(field).annotate(n=Count("id")).order_by(field)]


_STATE = StateCollector()
REGISTRY.register(_STATE)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_STATE)
    return registry


# --- access ---------------------------------------------------------------------------------


def _allowed(request: HttpRequest) -> bool:
    token = settings.OUTAGEHUB_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.OUTAGEHUB_METRICS_NETWORKS)


def metrics(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"status": "error", "message": "GET only."}, status=405, headers={"Allow": "GET, HEAD"})
    if not _allowed(request):
        message = "Metrics need the token (Authorization: Bearer ...) or an address in OUTAGEHUB_METRICS_NETWORKS."
        return JsonResponse({"status": "forbidden", "message": message}, status=403)
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
