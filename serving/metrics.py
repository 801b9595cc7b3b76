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
        # the serving versions' governance (serving.registry: the gate's and `talentloop monitor`'s tags)
        self.gate_forced = Gauge("talentloop_model_gate_forced", "1 when the model in use was forced past a failed "
                                 "check of the promotion gate.", ["model", "version"], registry=self.registry)
        self.fairness_passed = Gauge("talentloop_model_fairness_passed", "1 when the model's fairness audit passed.",
                                     ["model", "version"], registry=self.registry)
        self.monitor = {
            key: Gauge(f"talentloop_monitor_{key}", text, ["model", "version"], registry=self.registry)
            for key, text in (
                ("alert_precision", "Realised share of alerts followed by an exit (talentloop monitor)."),
                ("alert_recall", "Realised share of leavers who had been alerted (talentloop monitor)."),
                ("backtest_precision", "The backtest's alert precision, for reference."),
                ("max_psi", "Largest population stability index of a feature, training window vs latest month."),
                ("needs_retraining", "1 when talentloop monitor marked the model as needing retraining."),
            )}

    def set_models(self, versions: dict[str, tuple[str, str]]) -> None:
        """1 for the versions in use, 0 for versions served before (label removal is unsupported when
        ``PROMETHEUS_MULTIPROC_DIR`` is set, which importing Feast does)."""
        current = {(n, v, a) for n, (v, a) in versions.items()}
        for labels in self._shown - current:
            self.model_info.labels(*labels).set(0)
        for labels in current:
            self.model_info.labels(*labels).set(1)
        self._shown |= current

    def set_governance(self, loaded: dict) -> None:
        """Gauges from each loaded model's governance tags (``serving.registry.LoadedModel.governance``)."""
        fields = {"alert_precision": "precision", "alert_recall": "recall", "backtest_precision": "backtest_precision",
                  "max_psi": "max_psi"}
        for name, m in loaded.items():
            gov = m.governance
            self.gate_forced.labels(name, m.version).set(float(gov.get("gate") == "forced"))
            if gov.get("fairness") in ("passed", "failed"):
                self.fairness_passed.labels(name, m.version).set(float(gov["fairness"] == "passed"))
            for gauge, tag in fields.items():
                value = gov.get(f"monitor.{tag}")
                if value:
                    self.monitor[gauge].labels(name, m.version).set(float(value))
            if gov.get("monitor.needs_retraining"):
                self.monitor["needs_retraining"].labels(name, m.version).set(
                    float(gov["monitor.needs_retraining"] == "True"))

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
