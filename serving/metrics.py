"""Prometheus metrics: request counts and latency histograms per route template, model versions as labels.

Each app has its own ``CollectorRegistry`` (several apps in one test process do not collide). With
``--workers N`` each worker process keeps its own counters; a scrape reaches one worker (set
``PROMETHEUS_MULTIPROC_DIR`` and use prometheus-client's multiprocess collector to aggregate, see docs/api.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("talentloop_http_requests_total", "HTTP requests by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("talentloop_http_request_duration_seconds", "Request latency by route.",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)
        self.model_info = Gauge("talentloop_model_info", "Models in use (1 per loaded name and version).",
                                ["model", "version", "alias"], registry=self.registry)
        self._shown: set[tuple[str, str, str]] = set()

    def set_models(self, versions: dict[str, tuple[str, str]]) -> None:
        """1 for the versions in use, 0 for versions served before (label removal is unsupported when
        ``PROMETHEUS_MULTIPROC_DIR`` is set, which importing Feast does)."""
        current = {(n, v, a) for n, (v, a) in versions.items()}
        for labels in self._shown - current:
            self.model_info.labels(*labels).set(0)
        for labels in current:
            self.model_info.labels(*labels).set(1)
        self._shown |= current

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): times each HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], Metrics]):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            m = self.metrics()
            m.requests.labels(scope["method"], template, str(status["code"])).inc()
            m.latency.labels(scope["method"], template).observe(time.perf_counter() - started)
