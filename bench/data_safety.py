"""Data safety and security (issue #19): every check of the issue re-run now on a small simulated workspace.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/data_safety.py [--employees 200] [--months 24] [--port 8615]

Builds a workspace under a temporary folder with the real components (simulate → ingest → features → Feast
apply + materialize → train attrition (small) → batch-score → a small skill-demand forecaster), then measures
each check on its own copy, the way the tests do (tests/test_ingest_guards.py, test_erasure_complete.py,
test_materialize_atomic.py, test_workspace_backup.py, test_serving_security.py), through the CLI and a real
``talentloop serve --workers 2`` on loopback. Prints one table: check | before (the issue's figure, measured
then on the demo workspace) | after (measured now). ``--keep`` keeps the temporary folder; ``--built DIR``
reuses the workspace of a kept run. A few minutes on two quiet cores.

Over 450 lines on purpose: one plain script with each check a short function next to the others, so the
table can be traced to its measurement in one file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run as a script, sys.path[0] is bench/ (whose features.py would shadow the package): use the repo root
sys.path[:1] = [str(ROOT)]

import pandas as pd  # noqa: E402

from features.settings import Settings  # noqa: E402

TALENTLOOP = Path(sys.executable).with_name("talentloop")

BEFORE = {
    "header-only employees.csv": "employees 3,618 -> 0, exit 0",
    "two concurrent ingests": "one update lost silently",
    "erasure": "person left in 18 of 33 places",
    "revoked key": "accepted by workers until restart",
    "corrupt online store": "3 x 500 in 400 requests, /readyz 200",
    "materialize killed mid-way": "2 views new, 3 old",
    "alert answers audited": "35 alert payloads, 0 audit rows",
    "workspace copy": "reads/writes the original's artifacts",
    "skill-demand limit=2000": "stalls /healthz 1.9 s",
    "OpenAPI security scheme": "none",
    "non-UTF-8 body": "400",
    "talentloop.db permissions": "world-readable",
}


# ---------------------------------------------------------------------- helpers
def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "TALENTLOOP_HOME": str(home), "OMP_NUM_THREADS": "1"}


def _cli(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(TALENTLOOP), *args], env=_env(home), capture_output=True, text=True,
                          timeout=timeout)


def _copy(home: Path, dest: Path) -> Settings:
    """A copy of a workspace (relocated, as any CLI command or the server does for a copied workspace)."""
    from features.workspace import relocate

    shutil.copytree(home, dest)
    s = Settings(home=dest)
    relocate(s)
    if (dest / "feast").exists():
        from features.store import apply

        apply(s)  # feature-file sources re-registered at the copy
    return s


def _rows(home: Path, table: str) -> int:
    from features.offline import read_clean

    return len(read_clean(Settings(home=home), table))


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- the workspace
def build(root: Path, employees: int, months: int) -> tuple[Path, Path, Path]:
    """(feeds, home after ingest only, trained home)."""
    from features.build import build_features
    from features.ingest import ingest
    from features.simulator import simulate
    from features.store import apply, materialize

    feeds = root / "company"
    simulate(feeds, employees=employees, months=months, seed=3, dirty_rate=0)
    ingested = root / "ingested"
    report = ingest(feeds, Settings(home=ingested))
    assert report.ok, report.to_dict()
    home = root / "trained"
    shutil.copytree(ingested, home)
    s = Settings(home=home)
    build_features(s)
    apply(s)
    materialize(s)
    from tests.factories import ensure_champion
    from tests.serving_workspace import _register_small_forecaster
    from training_jobs import attrition, score_attrition

    attrition.run(s, n_folds=2, model_params={"n_estimators": 60})
    ensure_champion(s, "attrition")
    score_attrition.run(s)
    _register_small_forecaster(s)
    return feeds, ingested, home


# ---------------------------------------------------------------------- ingest
def header_only(root: Path, feeds: Path, ingested: Path) -> str:
    home = _copy(ingested, root / "c-header").home
    src = root / "feeds-header"
    shutil.copytree(feeds, src)
    path = src / "hr" / "employees.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    before = _rows(home, "employees")
    done = _cli(home, "ingest", str(src))
    return f"employees {before:,} -> {_rows(home, 'employees'):,}, exit {done.returncode}"


def concurrent_ingests(root: Path, feeds: Path, ingested: Path) -> str:
    home = _copy(ingested, root / "c-race").home
    variants = {}
    for name in ("a", "b"):
        variants[name] = root / f"feeds-{name}"
        shutil.copytree(feeds, variants[name])
    emp_path = variants["a"] / "hr" / "employees.csv"
    emp = pd.read_csv(emp_path, dtype=str, keep_default_na=False)
    who = emp["employee_id"].iloc[0]
    year = "1990" if emp.loc[0, "birth_year"] != "1990" else "1991"
    emp.loc[0, "birth_year"] = year  # update A
    emp.to_csv(emp_path, index=False)
    rev_path = variants["b"] / "performance" / "reviews.csv"
    rev = pd.read_csv(rev_path, dtype=str, keep_default_na=False)
    key = (rev["employee_id"].iloc[0], rev["cycle_id"].iloc[0])
    rev.loc[0, "overall_rating"] = "1" if rev.loc[0, "overall_rating"] != "1" else "5"  # update B
    wanted = int(rev.loc[0, "overall_rating"])
    rev.to_csv(rev_path, index=False)
    runs = {n: subprocess.Popen([str(TALENTLOOP), "ingest", str(p)], env=_env(home), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for n, p in variants.items()}
    codes = {n: (p.wait(timeout=600), " ".join(p.stderr.read().split())) for n, p in runs.items()}
    from features.offline import read_clean

    s = Settings(home=home)
    e, r = read_clean(s, "employees"), read_clean(s, "reviews")
    applied = {"a": int(e.loc[e["employee_id"] == who, "birth_year"].iloc[0]) == int(year),
               "b": int(r.loc[(r["employee_id"] == key[0]) & (r["cycle_id"] == key[1]), "overall_rating"].iloc[0])
               == wanted}
    told = [n for n, (c, err) in codes.items() if c == 75 and "another run holds the workspace" in err]
    silent = [n for n, (c, _) in codes.items() if c == 0 and not applied[n]]
    if told:
        return (f"exit {codes['a'][0]} / {codes['b'][0]}: ingest {', '.join(told)} refused (workspace busy, "
                f"told to retry), {'the other applied' if any(applied.values()) else 'NOTHING applied'}; "
                f"{len(silent)} lost silently")
    return (f"exit {codes['a'][0]} / {codes['b'][0]}: ran one after the other (the later full export is the "
            f"clean state); applied a={applied['a']} b={applied['b']}")


# ---------------------------------------------------------------------- erasure
def _found(home: Path, needles: list[str]) -> set[str]:
    """Files (and Parquet text columns) of ``home`` holding any of ``needles``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    hits = set()
    raw = [n.encode() for n in needles]
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        rel = str(path.relative_to(home))
        data = path.read_bytes()
        if any(b in data for b in raw):
            hits.add(rel)
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            for name in table.column_names:
                col = table.column(name)
                if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) \
                        or pa.types.is_dictionary(col.type):
                    text = col.to_pandas().astype("string").fillna("")
                    if any(text.str.contains(n, regex=False).any() for n in needles):
                        hits.add(rel)
    return hits


def erasure(root: Path, trained: Path, feeds: Path) -> str:
    from features.offline import read_clean
    from serving.audit import AuditLog, Entry
    from serving.audit import connect as audit_connect

    s = _copy(trained, root / "c-erase")
    shutil.copytree(feeds, s.home / "demo-company")  # demo feeds kept in the workspace, as `talentloop demo` does
    note = "erasure-probe-note-19"
    with sqlite3.connect(s.app_db) as con:
        employee, alert = con.execute("SELECT employee_id, alert_id FROM attrition_alerts ORDER BY risk DESC "
                                      "LIMIT 1").fetchone()
        con.execute("INSERT INTO alert_reviews (alert_id, status, reviewer, action_taken, note, reviewed_at) "
                    "VALUES (?, 'acknowledged', 'partner', 'talk', ?, '2026-01-01')", (alert, note))
    con = audit_connect(s.app_db)
    AuditLog(con).append([Entry("k_1", "hr_system", employee, "attrition-risk", "attrition", "1", 0.4,
                                ["tenure_months"])])
    con.close()
    events = read_clean(s, "employment_events")
    needles = [employee, alert, note, *events.loc[events["employee_id"] == employee, "event_id"].head(3)]
    before = _found(s.home, needles)
    done = _cli(s.home, "erase", employee, "--json")
    if done.returncode != 0:
        return f"erase failed (exit {done.returncode}): {done.stderr.strip()[-200:]}"
    removed = json.loads(done.stdout)["removed"]
    after = _found(s.home, needles)
    files = sum(1 for p in s.home.rglob("*") if p.is_file())
    places = sum(1 for v in removed.values() if v)
    return (f"person left in {len(after)} of {files} files (in {len(before)} before; "
            f"{places} places cleaned)")


# ---------------------------------------------------------------------- materialize
def materialize_killed(root: Path, trained: Path) -> str:
    from features.build import FEATURE_TABLES, feature_path
    from features.feature_repo.config import PROJECT

    s = _copy(trained, root / "c-materialize")
    online = s.feast_dir / "online.db"

    def state() -> dict[str, tuple]:
        with sqlite3.connect(online) as con:
            return {t: con.execute(f'SELECT count(DISTINCT entity_key), max(event_ts) FROM "{PROJECT}_{t}"')
                    .fetchone() for t in FEATURE_TABLES}

    newest = state()
    months = sorted(pd.read_parquet(feature_path(s.feature_dir, "employee_monthly"),
                                    columns=["event_timestamp"])["event_timestamp"].unique())
    earlier = str(pd.Timestamp(months[-4]).date())
    script = (  # write two views of an older snapshot, then wait inside the transaction until killed
        "import time, features.store as st\n"
        "seen = []\n"
        "def stop(name):\n"
        "    seen.append(name)\n"
        "    if len(seen) == 2:\n"
        "        print('half', flush=True); time.sleep(600)\n"
        "st._between_views = stop\n"
        "from features.settings import Settings\n"
        f"st.materialize(Settings(home={str(s.home)!r}), as_of={earlier!r})\n")
    p = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                         env=_env(s.home))
    try:
        reached = p.stdout.readline().strip() == "half"
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    if not reached:
        return "the run was not stopped mid-way (hook not reached)"
    now = state()
    changed = sum(now[t] != newest[t] for t in FEATURE_TABLES)
    return f"{changed} views new, {len(FEATURE_TABLES) - changed} old (killed after writing 2 of {len(FEATURE_TABLES)})"


# ---------------------------------------------------------------------- workspace copy
def workspace_copy(root: Path, trained: Path) -> str:
    original = root / "c-original"
    shutil.copytree(trained, original)
    _cli(original, "keys", "list")  # records where it lives (as any command run in it does)

    def tree() -> dict[str, tuple[int, int]]:
        return {str(p.relative_to(original)): (p.stat().st_size, p.stat().st_mtime_ns)
                for p in original.rglob("*") if p.is_file() and p.name != ".lock"}

    before = tree()
    copy = root / "c-copy"
    shutil.copytree(original, copy)  # by hand, as a person would
    done = _cli(copy, "train", "attrition", "--folds", "2")
    if done.returncode not in (0, 3):
        return f"training in the copy failed (exit {done.returncode}): {done.stderr.strip()[-200:]}"
    with sqlite3.connect(copy / "mlflow.db") as con:
        locations = [r[0] for r in con.execute("SELECT artifact_uri FROM runs")]
        locations += [r[0] for r in con.execute("SELECT storage_location FROM model_versions")]
    into_original = sum(str(original.resolve()) + "/" in str(loc) for loc in locations)
    after = tree()
    changed = sum(after.get(k) != v for k, v in before.items()) + len(set(after) - set(before))
    return (f"cp -r copy trained: {changed} files of the original changed; {into_original} of {len(locations)} "
            f"MLflow locations point at the original")


# ---------------------------------------------------------------------- serving
def _call(conn: http.client.HTTPConnection, path: str, key: str | None = None, method: str = "GET",
          body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    h = {**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})}
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    return r.status, r.getheader("content-type", ""), r.read()


def _worker_of(conn: http.client.HTTPConnection) -> int:
    return json.loads(_call(conn, "/healthz")[2])["worker"]


def _connect(port: int, pid: int | None = None, seconds: float = 600) -> tuple[http.client.HTTPConnection, int]:
    """A new keep-alive connection to worker ``pid`` (any worker when None), once it serves with the feature
    store open (/readyz may say 503 for the course ranker, which is not trained here). Connections idle for
    more than a few seconds are closed by the server: take a new one per step."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            if json.loads(_call(c, "/readyz")[2]).get("stores", {}).get("feature_store") == "ok":
                got = _worker_of(c)
                if pid is None or got == pid:
                    return c, got
        except (OSError, ValueError):
            pass
        c.close()
        time.sleep(0.05)
    raise RuntimeError(f"no connection to worker {pid} on port {port}")


def _until(check: Callable[[], bool], seconds: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def serving_checks(root: Path, trained: Path, port: int) -> dict[str, str]:
    from serving.auth import connect, create_key, revoke_key

    s = _copy(trained, root / "c-serve")
    con = connect(s.app_db)
    admin = create_key(con, "admin", name="bench admin").key
    victim = create_key(con, "hr_system", name="bench revoke")
    log = open(root / "serve.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([str(TALENTLOOP), "serve", "--port", str(port), "--workers", "2"], env=_env(s.home),
                              stdout=log, stderr=subprocess.STDOUT)
    out: dict[str, str] = {}
    try:
        c, pid_a = _connect(port)
        pid_b = pid_a
        while pid_b == pid_a:  # the other worker
            other, pid_b = _connect(port, seconds=120)
            other.close()

        # OpenAPI security schemes, non-UTF-8 bodies, file modes
        spec = json.loads(_call(c, "/v1/openapi.json")[2])
        schemes = sorted(spec.get("components", {}).get("securitySchemes", {}))
        ops = [op for path, item in spec["paths"].items() if path.startswith("/v1/") and "openapi" not in path
               for op in item.values()]
        secured = sum(bool(op.get("security")) for op in ops)
        out["OpenAPI security scheme"] = f"{' + '.join(schemes) or 'none'}; on {secured} of {len(ops)} operations"
        status, ctype, _ = _call(c, "/v1/course-recommendations:batch", admin, "POST",
                                 b'{"employee_ids": ["\xff\xfe"]}', {"Content-Type": "application/json"})
        out["non-UTF-8 body"] = f"{status} ({ctype.split(';')[0]})"
        def mode(p: Path) -> str:
            return oct(p.stat().st_mode & 0o777)[2:]

        out["talentloop.db permissions"] = (f"talentloop.db {mode(s.app_db)}, workspace folder {mode(s.home)} "
                                            f"(mlflow.db {mode(s.home / 'mlflow.db')} inside it)")

        # alert answers audited
        def audit_rows() -> int:
            with sqlite3.connect(s.app_db) as db:
                return db.execute("SELECT count(*) FROM audit_log").fetchone()[0]

        rows = audit_rows()
        status, _, body = _call(c, "/v1/attrition-alerts?page_size=35", admin)
        shown = len(json.loads(body)["items"]) if status == 200 else 0
        out["alert answers audited"] = f"{shown} alert payloads, {audit_rows() - rows} audit rows"

        # a heavy request on one worker against /healthz on the same worker
        heavy, probe = _connect(port, pid_a)[0], _connect(port, pid_a)[0]
        status_2000 = _call(heavy, "/v1/skill-demand?limit=2000", admin)[0]
        series = len(json.loads(_call(heavy, "/v1/skill-demand?limit=500&horizon_months=6", admin)[2])["items"])
        stop, served = threading.Event(), []

        def load() -> None:
            while not stop.is_set():
                served.append(_call(heavy, "/v1/skill-demand?limit=500&horizon_months=6", admin)[0])

        worker = threading.Thread(target=load)
        worker.start()
        waits = []
        t_end = time.monotonic() + 8
        while time.monotonic() < t_end:
            t0 = time.perf_counter()
            assert _worker_of(probe) == pid_a
            waits.append(time.perf_counter() - t0)
            time.sleep(0.05)
        stop.set()
        worker.join()
        out["skill-demand limit=2000"] = (f"limit=2000 -> {status_2000}; /healthz max {max(waits) * 1000:.0f} ms "
                                          f"over {len(waits)} probes while {len(served)} limit=500 forecasts "
                                          f"({series} series each, status {'/'.join(map(str, sorted(set(served))))}) "
                                          "ran on the same worker")

        # revocation reaches every worker
        path = "/v1/attrition-alerts?page_size=1"
        pair = [_connect(port, pid_a)[0], _connect(port, pid_b)[0]]
        ok = all(_call(x, path, victim.key)[0] == 200 for x in pair)
        revoked_at = time.monotonic()
        revoke_key(con, victim.key_id)
        took = []
        for x in pair:  # seconds from the revocation until this worker refuses the key
            seen = _until(lambda x=x: _call(x, path, victim.key)[0] == 401, 10.0)
            took.append(None if seen is None else time.monotonic() - revoked_at)
        out["revoked key"] = (f"401 on both workers within {max(took):.2f} s of revoking, no restart"
                              if ok and None not in took else f"not refused within 10 s on every worker: {took}")
        for x in pair:
            x.close()

        # corrupt online store under requests
        from tests.serving_workspace import Workspace

        employee = Workspace(s, root).employees()["employee_id"].iloc[0]
        risk = f"/v1/employees/{employee}/attrition-risk"
        online = s.feast_dir / "online.db"
        first = [_connect(port, pid_a)[0], _connect(port, pid_b)[0]]
        with open(online, "r+b") as fh:
            fh.write(os.urandom(1 << 16))
        counts: dict[int, int] = {}
        for i in range(400):
            code = _call(first[i % 2], risk, admin)[0]
            counts[code] = counts.get(code, 0) + 1
        ready = [(_call(x, "/readyz")) for x in first]
        named = all("store feature_store" in json.loads(body)["missing"] for _, _, body in ready)
        out["corrupt online store"] = (f"{counts.get(500, 0)} x 500, {counts.get(503, 0)} x 503, "
                                       f"{counts.get(200, 0)} x 200 in 400 requests; /readyz "
                                       f"{'/'.join(str(r[0]) for r in ready)}"
                                       + (" naming the feature store" if named else ""))
        for x in (c, heavy, probe, *first):
            x.close()
    finally:
        _say(f"serving: {out}")
        con.close()
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    return out


# ---------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--employees", type=int, default=200)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--port", type=int, default=8615)
    ap.add_argument("--keep", action="store_true", help="Keep the temporary folder (its path is printed).")
    ap.add_argument("--built", type=Path, help="A folder kept by an earlier --keep run: reuse its workspace.")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="data-safety-"))
    after: dict[str, str] = {}
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], object]) -> object:
        _say(name)
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            timings[name] = time.perf_counter() - t0

    def check(name: str, fn: Callable[[], str]) -> None:
        after[name] = timed(name, fn)
        _say(f"{name}: {after[name]}")

    try:
        if args.built:
            for part in ("company", "ingested", "trained"):
                shutil.copytree(args.built / part, root / part)
            feeds, ingested, trained = root / "company", root / "ingested", root / "trained"
        else:
            feeds, ingested, trained = timed("build", lambda: build(root, args.employees, args.months))
        check("header-only employees.csv", lambda: header_only(root, feeds, ingested))
        check("two concurrent ingests", lambda: concurrent_ingests(root, feeds, ingested))
        check("erasure", lambda: erasure(root, trained, feeds))
        check("materialize killed mid-way", lambda: materialize_killed(root, trained))
        check("workspace copy", lambda: workspace_copy(root, trained))
        after.update(timed("serving", lambda: serving_checks(root, trained, args.port)))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    width = max(map(len, BEFORE))
    bw = max(map(len, BEFORE.values()))
    print(f"workspace: {args.employees} simulated employees x {args.months} months; "
          f"{sum(timings.values()):.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    print(f"{'check':<{width}} | {'before (from the issue)':<{bw}} | after (measured now)")
    print(f"{'-' * width}-|-{'-' * bw}-|-{'-' * 20}")
    for check, before in BEFORE.items():
        print(f"{check:<{width}} | {before:<{bw}} | {after.get(check, 'not measured')}")
    if args.keep:
        print("kept:", root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
