"""The closing lines of ``talentloop demo``: which version of each model serves, URLs, a key and requests to try."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path


def model_status(db: Path, models: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Per registered model of the demo: its newest version (``latest``) and the version behind the
    ``champion`` alias, which the API serves (read with sqlite3: importing mlflow to ask would cost seconds);
    empty when the database cannot be read."""
    out: dict[str, dict[str, str | None]] = {m: {"latest": None, "champion": None} for m in models}
    if not db.exists():
        return out
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            for name, latest in con.execute("SELECT name, MAX(version) FROM model_versions GROUP BY name"):
                if name in out:
                    out[name]["latest"] = str(latest)
            for name, version in con.execute("SELECT name, version FROM registered_model_aliases WHERE alias = ?",
                                             ("champion",)):
                if name in out:
                    out[name]["champion"] = str(version)
        finally:
            con.close()
    except sqlite3.Error:  # unreadable: say nothing rather than something untrue
        return {}
    return out


def base_url(host: str, port: int) -> str:
    """The URL a person on this machine opens for a server listening on ``host``:``port`` (a wildcard
    address is reached through the loopback; an IPv6 address goes in brackets)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def tryout_lines(key: str, employee: str, host: str, port: int, home: Path,
                 models: dict[str, dict[str, str | None]] | None = None) -> list[str]:
    """Where to go once ``talentloop serve --host HOST --port PORT`` is up; with ``models``
    (:func:`model_status`), which version of each model is registered and which one serves, and a talent-pool
    request when the potential model serves."""
    base = base_url(host, port)
    serve = "talentloop serve" + ("" if host == "127.0.0.1" else f" --host {host}") + (
        "" if port == 8000 else f" --port {port}")
    auth = f"-H 'Authorization: Bearer {key}'"
    tries = [f"    curl -s {auth} '{base}/v1/employees/{employee}/attrition-risk?horizon_months=3&lang=zh'",
             f"    curl -s {auth} '{base}/v1/employees/{employee}/course-recommendations?k=10&lang=en'",
             f"    curl -s {auth} '{base}/v1/attrition-alerts?min_risk=0.1&page_size=5'"]
    if models and models.get("potential", {}).get("champion"):
        tries.append(f"    curl -s {auth} '{base}/v1/talent-pool?sort=expected_loss&page_size=5&lang=en'")
    return [
        "",
        f"demo ready: workspace {home}",
        *model_lines(models or {}),
        f"  start the API:  {serve}   (`make demo` starts it for you)",
        f"  API docs:       {base}/v1/docs",
        f"  HR console:     {base}/console   (sign in with the key below)",
        f"  MLflow UI:      {_mlflow()} ui --backend-store-uri sqlite:///{home.resolve()}/mlflow.db --port 5000",
        f"  admin API key:  {key}   (shown once; `talentloop keys create --role admin` makes more)",
        "  try:",
        *tries,
        "",
    ]


def model_lines(models: dict[str, dict[str, str | None]]) -> list[str]:
    """One line per model: the version serving (the champion) and any newer version the gate refused."""
    lines = []
    for name, status in models.items():
        latest, champion, cli = status.get("latest"), status.get("champion"), name.replace("_", "-")
        if latest is None:
            text = "not registered"
        elif champion is None:
            text = f"v{latest} registered, not served: the gate refused it (`talentloop deployments {cli}` shows why)"
        elif champion == latest:
            text = f"v{champion} registered and served"
        else:
            text = (f"v{champion} served; v{latest} registered, not promoted by the gate "
                    f"(`talentloop deployments {cli}` shows why)")
        lines.append(f"  {'model ' + name + ':':<22}{text}")
    return lines


def _mlflow() -> str:
    """The MLflow command of the environment running TalentLoop (not whichever ``mlflow`` is on PATH)."""
    beside = Path(sys.executable).parent / "mlflow"
    return str(beside) if beside.exists() else f"{sys.executable} -m mlflow"
