"""The outgoing webhook that hands training-need findings to the HR suite (to start its approval flow).

Configured in the workspace's ``webhook.yaml`` (``talentloop webhook set-url URL``; docs/training-needs.md):

.. code-block:: yaml

    url: https://hr.example.com/hooks/talentloop   # http or https; no URL: nothing is sent
    max_attempts: 5          # attempts per delivery (the first one included)
    backoff_seconds: 2       # wait before retry n: backoff_seconds × 2^(n-1), at most 300 s
    timeout_seconds: 10      # per attempt

Each delivery is one ``POST`` of a JSON body ``{"event": "training_needs.found", "delivery_id", "as_of",
"created_at", "findings": [...]}`` with the headers ``X-TalentLoop-Event``, ``X-TalentLoop-Delivery``,
``X-TalentLoop-Attempt`` and ``X-TalentLoop-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the exact body
bytes under the workspace secret (``webhook.secret``, 0600, made by ``set-url``; the body is the same on every
attempt). A 2xx answer delivers it; a connection error, a timeout, 408, 429 or 5xx is retried with backoff; any
other answer (a 3xx too: redirects are not followed) fails at once. Every attempt is a row of
``webhook_deliveries`` in the application database. The request goes straight to the URL (no proxy).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.points.rules import load_yaml_model
from models.training_needs import store

CONFIG_FILE = "webhook.yaml"
SECRET_FILE = "webhook.secret"
EVENT = "training_needs.found"
SIGNATURE_HEADER = "X-TalentLoop-Signature-256"
RETRY_STATUS = frozenset({408, 429})
MAX_WAIT = 300.0


def check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 2000:
        raise ValueError(f"webhook url must be an http:// or https:// address with a host, got {url!r}")
    return url


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    max_attempts: int = Field(5, ge=1, le=20)
    backoff_seconds: float = Field(2.0, ge=0, le=300)
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_url(v)


def load_config(home: Path) -> WebhookConfig:
    return load_yaml_model(Path(home) / CONFIG_FILE, WebhookConfig)


def save_config(home: Path, config: WebhookConfig) -> Path:
    import yaml

    path = Path(home) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.model_dump(), sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path


def secret(home: Path, create: bool = False, rotate: bool = False) -> str | None:
    """The workspace's signing secret (made when ``create`` and missing, or replaced when ``rotate``)."""
    path = Path(home) / SECRET_FILE
    if rotate or (create and not path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip() if path.exists() else None


def sign(secret_value: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret_value.encode(), body, hashlib.sha256).hexdigest()


def verify(secret_value: str, body: bytes, header: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(sign(secret_value, body), header or "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:  # noqa: ARG002
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    """(HTTP status, error) of one POST; status None when no answer came."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:300]


def _outcome(status: int | None, attempt: int, max_attempts: int) -> str:
    if status is not None and 200 <= status < 300:
        return "delivered"
    retryable = status is None or status in RETRY_STATUS or status >= 500
    return "will_retry" if retryable and attempt < max_attempts else "failed"


def deliver(con: sqlite3.Connection, home: Path, findings: list[dict], as_of: str,
            sleep: Callable[[float], None] = time.sleep) -> dict:
    """Send ``findings`` (one delivery, retried); every attempt logged; delivered findings marked. Returns
    ``{"status": "not_configured" | "nothing_to_send" | "delivered" | "failed", "delivery_id", "attempts"}``."""
    config = load_config(home)
    if config.url is None:
        return {"status": "not_configured", "delivery_id": None, "attempts": 0}
    if not findings:
        return {"status": "nothing_to_send", "delivery_id": None, "attempts": 0}
    key = secret(home, create=True)
    delivery_id = f"dlv-{uuid.uuid4().hex[:16]}"
    ids = [f["finding_id"] for f in findings]
    body = json.dumps({"event": EVENT, "delivery_id": delivery_id, "as_of": as_of,
                       "created_at": pd.Timestamp.now(tz="UTC").isoformat(), "findings": findings},
                      ensure_ascii=False, default=str).encode()
    signature = sign(key, body)
    outcome = "failed"
    for attempt in range(1, config.max_attempts + 1):
        headers = {"Content-Type": "application/json", "User-Agent": "TalentLoop-Webhook/1", "X-TalentLoop-Event": EVENT,
                   "X-TalentLoop-Delivery": delivery_id, "X-TalentLoop-Attempt": str(attempt),
                   SIGNATURE_HEADER: signature}
        started = time.monotonic()
        status, error = _post(config.url, body, headers, config.timeout_seconds)
        outcome = _outcome(status, attempt, config.max_attempts)
        at = pd.Timestamp.now(tz="UTC").isoformat()
        store.log_attempt(con, {"delivery_id": delivery_id, "attempt": attempt, "at": at, "url": config.url,
                                "event": EVENT, "finding_ids": json.dumps(ids), "status_code": status,
                                "outcome": outcome, "error": error,
                                "duration_ms": round((time.monotonic() - started) * 1000, 1), "signature": signature})
        if outcome == "delivered":
            store.mark_delivered(con, ids, delivery_id, at)
            break
        if outcome == "failed":
            break
        sleep(min(MAX_WAIT, config.backoff_seconds * 2 ** (attempt - 1)))
    return {"status": "delivered" if outcome == "delivered" else "failed", "delivery_id": delivery_id,
            "attempts": attempt}
