"""API keys, roles and org-unit scope.

A key is ``tl_`` + 32 random bytes (URL-safe base64); only its SHA-256 is stored (in ``settings.app_db``),
so a leaked database does not leak keys. Roles:

- ``hr_system``: every org unit, employees, alerts, forecasts, recommendations.
- ``hr_partner``: only employees, alerts and forecasts in the org-unit subtrees granted; anything else
  answers 404, so the existence of other people and units is not revealed.
- ``data_scientist``: models endpoints and predictions (no alert workflow).
- ``admin``: everything, including model reload.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROLES = ("hr_system", "hr_partner", "data_scientist", "admin")
KEY_PREFIX = "tl_"

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, org_units TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT);
"""


def connect(path: Path) -> sqlite3.Connection:
    """The application database with the keys table (created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(SCHEMA)
    return con


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    key: str  # shown once, never stored
    role: str
    org_units: tuple[str, ...]
    name: str


def create_key(con: sqlite3.Connection, role: str, org_units: Iterable[str] = (), name: str = "",
               known_units: Iterable[str] | None = None) -> CreatedKey:
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
    with con:
        con.execute("INSERT INTO api_keys VALUES (?,?,?,?,?,?,NULL)",
                    (key_id, name or key_id, role, json.dumps(list(units)), hash_key(key),
                     pd.Timestamp.now(tz="UTC").isoformat()))
    return CreatedKey(key_id, key, role, units, name or key_id)


def list_keys(con: sqlite3.Connection) -> list[dict]:
    cur = con.execute("SELECT key_id, name, role, org_units, created_at, revoked_at FROM api_keys ORDER BY created_at")
    return [{"key_id": r[0], "name": r[1], "role": r[2], "org_units": json.loads(r[3]), "created_at": r[4],
             "revoked_at": r[5]} for r in cur.fetchall()]


class OrgTree:
    """The org-unit tree (from the clean ``org_units`` table): subtrees for scope checks."""

    def __init__(self, units: pd.DataFrame):
        self.parent = {str(u): (None if pd.isna(p) else str(p))
                       for u, p in zip(units["org_unit_id"], units["parent_id"], strict=True)}
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


class KeyStore:
    """Verifies presented keys against the stored hashes (cached in memory; thread-safe)."""

    def __init__(self, con: sqlite3.Connection, tree: OrgTree, lock: threading.Lock | None = None):
        self.con = con
        self.tree = tree
        self._lock = lock or threading.Lock()
        self._cache: dict[str, Principal | None] = {}

    def verify(self, key: str) -> Principal | None:
        digest = hash_key(key)
        hit = self._cache.get(digest, False)
        if hit is not False:
            return hit
        with self._lock:
            row = self.con.execute("SELECT key_id, name, role, org_units FROM api_keys "
                                   "WHERE key_hash = ? AND revoked_at IS NULL", (digest,)).fetchone()
        principal = None
        if row is not None:
            granted = tuple(json.loads(row[3]))
            scope = None
            if row[2] == "hr_partner":
                scope = frozenset().union(*(self.tree.subtree(u) for u in granted)) if granted else frozenset()
            principal = Principal(row[0], row[1], row[2], granted, scope)
            if len(self._cache) < 10_000:
                self._cache[digest] = principal
        return principal
