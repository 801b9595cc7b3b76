"""A console workspace for the console tests: a private copy of the serving tests' small trained company
(300 employees × 24 months) with a second month scored, so alerts span two months and carry a change since
last month, plus keys for two HR partners of sibling divisions that both have alerts."""

from __future__ import annotations

import fcntl
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from features.settings import Settings
from tests.serving_workspace import shared_workspace


@dataclass
class ConsoleWorkspace:
    settings: Settings
    keys: dict[str, str]
    unit_a: str
    unit_b: str
    scope_a: frozenset[str]
    alert_a: str
    alert_b: str

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.settings.app_db)


def _scored_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serving workspace with the month before its last also scored; built once per run (file lock)."""
    from training_jobs import score_attrition
    from training_jobs.attrition import feature_window

    shared = shared_workspace(tmp_path_factory)
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if base.name.startswith("popen-gw") else base) / "console-base"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (root / "DONE").exists():
                shutil.rmtree(root / "home", ignore_errors=True)
                shutil.copytree(shared / "home", root / "home")
                settings = Settings(home=root / "home")
                last = feature_window(settings)[1]
                score_attrition.run(settings, as_of=str((last - pd.DateOffset(months=1)).date()))
                (root / "DONE").write_text("ok")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root / "home"


def build(tmp_path_factory: pytest.TempPathFactory, name: str = "console-home") -> ConsoleWorkspace:
    """A private copy of the scored base (tests write reviews, sessions and audit rows) with fresh keys."""
    from features.app_db import connect
    from features.offline import read_clean
    from serving.auth import OrgTree, create_key

    home = tmp_path_factory.mktemp(name) / "home"
    shutil.copytree(_scored_base(tmp_path_factory), home)
    settings = Settings(home=home)
    tree = OrgTree(read_clean(settings, "org_units"))
    root = next(u for u, p in tree.parent.items() if p is None)
    con = sqlite3.connect(settings.app_db)
    alerts = con.execute("SELECT alert_id, org_unit_id FROM attrition_alerts ORDER BY as_of DESC, risk DESC").fetchall()
    con.close()
    by_div: dict[str, list[str]] = {}
    for div in sorted(tree.children[root]):
        sub = tree.subtree(div)
        found = [a for a, u in alerts if u in sub]
        if found:
            by_div[div] = found
    (a, in_a), (b, in_b) = list(by_div.items())[:2]
    con = connect(settings.app_db)
    try:
        keys = {"partner_a": create_key(con, "hr_partner", (a,), "Partner A").key,
                "partner_b": create_key(con, "hr_partner", (b,), "Partner B").key,
                "hr_system": create_key(con, "hr_system", (), "HR system").key,
                "data_scientist": create_key(con, "data_scientist", (), "Data scientist").key}
    finally:
        con.close()
    return ConsoleWorkspace(settings, keys, a, b, tree.subtree(a), in_a[0], in_b[0])


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


# words that must never reach a person (common.md): placeholders and raw missing values
FORBIDDEN = re.compile(r"\b(None|nan|NaN|unknown|n/a|null|undefined)\b")


def visible_text(html: str) -> str:
    """The page's text without tags, scripts and attribute values (rough, enough for the word check)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def assert_clean(html: str) -> None:
    text = visible_text(html)
    bad = FORBIDDEN.search(text)
    assert bad is None, f"placeholder word {bad.group(0)!r} in: ...{text[max(0, bad.start() - 80):bad.end() + 80]}..."


def sign_in(client, key: str, lang: str = "en"):
    page = client.get(f"/console/login?lang={lang}")
    assert page.status_code == 200, page.text
    return client.post("/console/login", data={"key": key, "csrf": csrf_of(page.text), "lang": lang},
                       follow_redirects=False)


def home_of(ws: ConsoleWorkspace) -> Path:
    return ws.settings.home
