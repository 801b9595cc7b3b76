"""API keys, roles and org-unit scope.

A key is ``tl_`` + 32 random bytes (URL-safe base64); only its SHA-256 is stored (in ``settings.app_db``),
so a leaked database does not leak keys (tables ``api_keys`` and ``key_denials``, :mod:`features.app_db`). A key can carry an expiry, be revoked (``keys revoke``) or rotated
(``keys rotate``: a new key with the same role and scope, the old one revoked at once or after a grace period).
Every worker re-reads a key's row at most :data:`RECHECK_SECONDS` after it last did, so a revocation or an
expiry takes effect on every worker within a second; attempts with a revoked or expired key are recorded in
``key_denials`` and logged. Roles:

- ``hr_system``: every org unit, employees, alerts, forecasts, recommendations.
- ``hr_partner``: only employees, alerts and forecasts in the org-unit subtrees granted; anything else
  answers 404, so the existence of other people and units is not revealed.
- ``data_scientist``: models endpoints and predictions (no alert workflow).
- ``admin``: everything, including model reload.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd

from features.app_db import connect as connect  # re-exported: the application database, with the key tables

ROLES = ("hr_system", "hr_partner", "data_scientist", "admin")
KEY_PREFIX = "tl_"
RECHECK_SECONDS = 0.5  # a worker re-reads a key's row this long after it last did (revocation reaches it)
log = logging.getLogger("talentloop.serving")

def _now() -> datetime:
    return datetime.now(UTC)


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """``90d``, ``12h``, ``4w`` (from now) or a date / ISO time (UTC) → the expiry time; ValueError otherwise."""
    now = now or _now()
    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text or "")
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n <= 0:
            raise ValueError(f"--expires-in must be positive, got {text!r}")
        return now + {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise ValueError(f"expected a duration like 90d, 12h or 4w, or a date like 2027-03-01, got {text!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts.to_pydatetime() <= now:
        raise ValueError(f"the expiry {ts:%Y-%m-%d %H:%M} UTC is already past")
    return ts.to_pydatetime()


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    key: str  # shown once, never stored
    role: str
    org_units: tuple[str, ...]
    name: str
    expires_at: str | None = None


def create_key(con: sqlite3.Connection, role: str, org_units: Iterable[str] = (), name: str = "",
               known_units: Iterable[str] | None = None, expires_at: datetime | None = None) -> CreatedKey:
    """Create a key; ``hr_partner`` needs at least one org unit, other roles take none."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    units = tuple(dict.fromkeys(str(u) for u in org_units))
    if role == "hr_partner" and not units:
        raise ValueError("an hr_partner key needs at least one --org-unit")
    if role != "hr_partner" and units:
        raise ValueError(f"--org-unit applies to hr_partner keys only; {role} sees every org unit")
    if known_units is not None:
        unknown = sorted(set(units) - set(known_units))
        if unknown:
            raise ValueError(f"unknown org unit(s) {unknown}; check the ids in the org_units table")
    key_id = f"k_{secrets.token_hex(6)}"
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    expires = None if expires_at is None else expires_at.astimezone(UTC).isoformat()
    with con:
        con.execute("INSERT INTO api_keys (key_id, name, role, org_units, key_hash, created_at, revoked_at, "
                    "expires_at) VALUES (?,?,?,?,?,?,NULL,?)",
                    (key_id, name or key_id, role, json.dumps(list(units)), hash_key(key), _now().isoformat(),
                     expires))
    return CreatedKey(key_id, key, role, units, name or key_id, expires)


def _key_row(con: sqlite3.Connection, key_id: str) -> tuple:
    row = con.execute("SELECT key_id, name, role, org_units, revoked_at, expires_at FROM api_keys WHERE key_id = ?",
                      (key_id,)).fetchone()
    if row is None:
        raise ValueError(f"no API key with id {key_id!r}; `talentloop keys list` shows the ids")
    return row


def revoke_key(con: sqlite3.Connection, key_id: str) -> str:
    """Revoke a key now (every worker refuses it within a second); returns the revocation time. Revoking a
    revoked key keeps the first time."""
    row = _key_row(con, key_id)
    if row[4]:
        return row[4]
    at = _now().isoformat()
    with con:
        con.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (at, key_id))
    return at


def rotate_key(con: sqlite3.Connection, key_id: str, grace: timedelta | None = None,
               expires_at: datetime | None = None) -> CreatedKey:
    """A new key with the old one's name, role and org units; the old key is revoked now, or expires after
    ``grace`` (so the systems using it can switch)."""
    row = _key_row(con, key_id)
    if row[4]:
        raise ValueError(f"key {key_id} was revoked at {row[4][:19]}; create a new key instead")
    created = create_key(con, row[2], json.loads(row[3]), row[1], expires_at=expires_at)
    if grace:
        until = (_now() + grace).isoformat()
        with con:
            con.execute("UPDATE api_keys SET expires_at = ? WHERE key_id = ? AND (expires_at IS NULL OR "
                        "expires_at > ?)", (until, key_id, until))
    else:
        revoke_key(con, key_id)
    return created


def list_keys(con: sqlite3.Connection) -> list[dict]:
    cur = con.execute("SELECT k.key_id, name, role, org_units, created_at, revoked_at, expires_at, "
                      "(SELECT count(*) FROM key_denials d WHERE d.key_id = k.key_id) "
                      "FROM api_keys k ORDER BY created_at")
    return [{"key_id": r[0], "name": r[1], "role": r[2], "org_units": json.loads(r[3]), "created_at": r[4],
             "revoked_at": r[5], "expires_at": r[6], "denied_attempts": r[7]} for r in cur.fetchall()]


def key_state(revoked_at: str | None, expires_at: str | None, now: datetime | None = None) -> str:
    """'active', 'revoked' or 'expired'."""
    if revoked_at:
        return "revoked"
    if expires_at and datetime.fromisoformat(expires_at) <= (now or _now()):
        return "expired"
    return "active"


class OrgTree:
    """The org-unit tree (from the clean ``org_units`` table): subtrees for scope checks."""

    def __init__(self, units: pd.DataFrame):
        self.parent = {str(u): (None if pd.isna(p) else str(p))
                       for u, p in zip(units["org_unit_id"], units["parent_id"], strict=True)}
        ids = units["org_unit_id"]
        en = [e if isinstance(e, str) and e else str(u) for u, e in zip(ids, units.get("name_en", ids), strict=True)]
        zh = [z if isinstance(z, str) and z else e for e, z in zip(en, units.get("name_zh", en), strict=True)]
        self.names = {str(u): {"en": e, "zh": z} for u, e, z in zip(ids, en, zh, strict=True)}  # Chinese falls back
        self.children: dict[str, list[str]] = {}
        for u, p in self.parent.items():
            if p is not None:
                self.children.setdefault(p, []).append(u)

    def __contains__(self, unit: object) -> bool:
        return unit in self.parent

    def __len__(self) -> int:
        return len(self.parent)

    def subtree(self, unit: str) -> frozenset[str]:
        """``unit`` and every unit below it (empty when unknown)."""
        if unit not in self.parent:
            return frozenset()
        out, stack = set(), [unit]
        while stack:
            u = stack.pop()
            if u in out:
                continue
            out.add(u)
            stack.extend(self.children.get(u, ()))
        return frozenset(out)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and role, and for ``hr_partner`` the units they may see."""

    key_id: str
    name: str
    role: str
    granted: tuple[str, ...] = ()
    scope: frozenset[str] | None = field(default=None)  # None: every unit

    @property
    def scoped(self) -> bool:
        return self.scope is not None

    def sees(self, org_unit: str | None) -> bool:
        return self.scope is None or (org_unit is not None and org_unit in self.scope)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a presented key: the caller, or why not (``unknown``, ``revoked``, ``expired``)."""

    principal: Principal | None
    reason: str = "ok"
    key_id: str | None = None
    since: str | None = None  # when the key was revoked or expired


class KeyStore:
    """Verifies presented keys against the stored hashes (thread-safe). A verdict is cached for at most
    :data:`RECHECK_SECONDS`, so a key revoked in the database is refused by every worker within a second."""

    def __init__(self, con: sqlite3.Connection, tree: OrgTree, lock: threading.Lock | None = None,
                 recheck_seconds: float = RECHECK_SECONDS):
        self.con = con
        self.tree = tree
        self._lock = lock or threading.Lock()
        self._cache: dict[str, tuple[float, Verdict, str | None]] = {}
        self.recheck_seconds = recheck_seconds

    def verify(self, key: str) -> Principal | None:
        return self.check(key).principal

    def check(self, key: str, path: str = "") -> Verdict:
        """The verdict on ``key``; a revoked or expired key's attempt is recorded in ``key_denials``."""
        digest = hash_key(key)
        now_mono = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and now_mono - hit[0] < self.recheck_seconds:
            verdict, expires = hit[1], hit[2]
            if verdict.principal is None or expires is None or datetime.fromisoformat(expires) > _now():
                return self._denied(verdict, path)
        with self._lock:
            row = self.con.execute("SELECT key_id, name, role, org_units, revoked_at, expires_at FROM api_keys "
                                   "WHERE key_hash = ?", (digest,)).fetchone()
        verdict, expires = Verdict(None, "unknown"), None
        if row is not None:
            state = key_state(row[4], row[5])
            if state != "active":
                verdict = Verdict(None, state, row[0], row[4] if state == "revoked" else row[5])
            else:
                granted = tuple(json.loads(row[3]))
                scope = None
                if row[2] == "hr_partner":
                    scope = frozenset().union(*(self.tree.subtree(u) for u in granted)) if granted else frozenset()
                verdict, expires = Verdict(Principal(row[0], row[1], row[2], granted, scope), "ok", row[0]), row[5]
        if len(self._cache) >= 10_000:
            self._cache = {}
        self._cache[digest] = (now_mono, verdict, expires)
        return self._denied(verdict, path)

    def _denied(self, verdict: Verdict, path: str) -> Verdict:
        if verdict.reason in ("revoked", "expired") and verdict.key_id:
            log.warning("refused %s API key %s on %s", verdict.reason, verdict.key_id, path or "?")
            try:
                with self._lock, self.con:
                    self.con.execute("INSERT INTO key_denials VALUES (?,?,?,?)",
                                     (_now().isoformat(), verdict.key_id, verdict.reason, path[:200]))
            except sqlite3.Error:  # the refusal stands even when it cannot be recorded
                log.exception("could not record the refused key attempt")
        return verdict
