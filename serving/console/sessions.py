"""Console sessions: an API key signs in once and becomes a server-side session.

The browser holds only a random session id in an HttpOnly, SameSite=Strict cookie (``Secure`` when served
over https); the application database holds its SHA-256, the key id, a CSRF token and the expiry. Every
request re-reads the key, so a revoked key ends its sessions at once, and the caller gets the same
:class:`serving.auth.Principal` (role and org-unit scope) as the API would give the key itself. A session
ends after ``IDLE`` without a request, after ``ABSOLUTE`` in any case, or at sign-out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from serving.auth import OrgTree, Principal

COOKIE = "tl_console"
LOGIN_CSRF_COOKIE = "tl_console_login"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=8)
CONSOLE_ROLES = ("hr_partner", "hr_system", "admin")

@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class SessionStore:
    """Sessions in the application database (shared by every worker)."""

    def __init__(self, con: sqlite3.Connection, tree: OrgTree, lock: threading.Lock):
        self.con = con
        self.tree = tree
        self.lock = lock  # the table console_sessions is created with the database (features.app_db)

    def principal(self, key_id: str) -> Principal | None:
        """The key's principal as the API sees it (None when unknown or revoked)."""
        with self.lock:
            row = self.con.execute("SELECT key_id, name, role, org_units FROM api_keys "
                                   "WHERE key_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                                   (key_id, datetime.now(UTC).isoformat())).fetchone()
        if row is None:
            return None
        granted = tuple(json.loads(row[3]))
        scope = None
        if row[2] == "hr_partner":
            scope = frozenset().union(*(self.tree.subtree(u) for u in granted)) if granted else frozenset()
        return Principal(row[0], row[1], row[2], granted, scope)

    def create(self, principal: Principal) -> tuple[str, Session]:
        """A new session for ``principal``: (the cookie's token, the session)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = _now()
        expires = now + IDLE
        with self.lock, self.con:
            self.con.execute("INSERT INTO console_sessions VALUES (?,?,?,?,?,?,NULL)",
                             (_hash(token), principal.key_id, csrf, now.isoformat(), expires.isoformat(),
                              (now + ABSOLUTE).isoformat()))
        return token, Session(principal, csrf, expires)

    def get(self, token: str | None) -> Session | None:
        """The live session behind ``token`` (its idle expiry pushed back), or None."""
        if not token:
            return None
        digest = _hash(token)
        with self.lock:
            row = self.con.execute("SELECT key_id, csrf, expires_at, ends_at FROM console_sessions "
                                   "WHERE session_hash = ? AND ended_at IS NULL", (digest,)).fetchone()
        if row is None:
            return None
        now = _now()
        expires, ends = datetime.fromisoformat(row[2]), datetime.fromisoformat(row[3])
        if now >= expires or now >= ends:
            self.end(token)
            return None
        principal = self.principal(row[0])
        if principal is None or principal.role not in CONSOLE_ROLES:
            self.end(token)
            return None
        renewed = min(now + IDLE, ends)
        if renewed - expires > timedelta(minutes=1):  # write at most once a minute per session
            with self.lock, self.con:
                self.con.execute("UPDATE console_sessions SET expires_at = ? WHERE session_hash = ?",
                                 (renewed.isoformat(), digest))
            expires = renewed
        return Session(principal, row[1], expires)

    def end(self, token: str) -> None:
        with self.lock, self.con:
            self.con.execute("UPDATE console_sessions SET ended_at = ? WHERE session_hash = ? AND ended_at IS NULL",
                             (_now().isoformat(), _hash(token)))


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token (False when either is missing)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
