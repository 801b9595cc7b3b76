"""Benchmark: the serving API on real uvicorn (127.0.0.1 only) against a straightforward implementation.

``.venv/bin/python bench/serve.py --home .talentloop [--seconds 10] [--workers 2] [--only course]``

Needs a workspace with features materialized and an attrition champion (``make demo`` + train + score).
Starts ``serving.app:create_app`` and the baseline (:func:`baseline_app`: ``FeatureStore.get_online_features``
with the feature service looked up per request, ``shap.TreeExplainer`` built per request) on loopback
ports, and drives each from a load-generator process (asyncio, raw HTTP/1.1 keep-alive, open loop at a
fixed rate with latency measured from the scheduled send time, so queueing counts). Bounded: every phase
runs ``--seconds`` and at most ``rate × seconds`` requests. Prints one table with the speed-up ratios.

Phases of ``GET /v1/employees/{id}/attrition-risk`` (all employees of the latest month, shuffled): at the
scored horizon (h=3) without levers, answered from the batch scores (``precomputed``); at h=4, whose
explanation is computed for the request (``live``: TreeSHAP over the horizon's months); with the what-if
levers (on by default; stored by batch scoring at h=3, computed for the request at h=4); and at saturation
(closed loop). Then ``GET /v1/employees/{id}/course-recommendations?k=10`` at 100 req/s and at saturation.
On Linux, ours' rows also give the workers' CPU milliseconds per request answered (user + system time from
``/proc``, all workers): on a shared machine it moves much less between runs than p99 does.
The baseline's risks come from the model's frame through LightGBM's pandas input (:func:`_pandas_risk`), as
the model itself predicted before its numpy path, so the baseline does not change when the model gets faster.
The baseline runs its phases saturation first, each on a fresh server.
``--only TEXT`` keeps the phases whose name contains TEXT; ``--impl ours|baseline`` drives one side only.

The run adds an API key and audit rows to the workspace: use a copy (``cp -r .talentloop /tmp/ws``). MLflow
artifact locations in a copy's ``mlflow.db`` are absolute paths into the original, which are only read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import time
import urllib.request
from contextlib import asynccontextmanager
from pathlib import Path

HOST = "127.0.0.1"


# ---------------------------------------------------------------------- baseline implementation
def baseline_app():
    """The straightforward versions of ``GET /v1/employees/{id}/attrition-risk`` and
    ``GET /v1/employees/{id}/course-recommendations`` (no auth, no audit): the feature service looked up and
    read through Feast per request (for courses: every candidate's row, on-demand view included),
    ``shap.TreeExplainer`` built per request. Candidates follow the same rule as ours."""
    from fastapi import FastAPI, HTTPException

    from features.settings import Settings
    from features.store import feature_store

    settings = Settings()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app):
        import mlflow

        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.tracking_uri)
        state["model"] = mlflow.pyfunc.load_model("models:/attrition@champion").unwrap_python_model().model
        state["store"] = feature_store(settings)
        try:
            state["ranker"] = mlflow.pyfunc.load_model("models:/course_ranker@champion").unwrap_python_model().model
        except Exception:  # noqa: BLE001 - no course ranker in this workspace: that phase is skipped
            state["ranker"] = None
        else:
            from serving.catalog import load_catalog

            state["catalog"] = load_catalog(settings)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/employees/{employee_id}/attrition-risk")
    def risk(employee_id: str, horizon_months: int = 3):
        import shap

        model, store = state["model"], state["store"]
        service = store.get_feature_service(model.feature_service_)
        data = store.get_online_features(features=service, entity_rows=[{"employee_id": employee_id}]).to_dict()
        import pandas as pd

        frame = pd.DataFrame({c: data[c] for c in model.feature_columns_})
        if frame.isna().all(axis=1).iloc[0]:
            raise HTTPException(404, f"employee {employee_id} not found")
        curve = _pandas_risk(model, frame)[0]
        explainer = shap.TreeExplainer(model.booster_)
        X = model._matrix(frame, 0)
        values = explainer.shap_values(X)
        contrib = values[0] if getattr(values, "ndim", 2) == 2 else values
        order = sorted(range(X.shape[1]), key=lambda j: -abs(contrib[j]))[:5]
        return {"employee_id": employee_id, "risk": float(curve[horizon_months - 1]),
                "risk_curve": [float(r) for r in curve],
                "explanation": {"base_value": float(explainer.expected_value),
                                "contributions": [{"feature": X.columns[j], "contribution": float(contrib[j])}
                                                  for j in order]}}

    @app.get("/v1/employees/{employee_id}/course-recommendations")
    def courses(employee_id: str, k: int = 10):
        import pandas as pd
        import shap

        model, store, catalog = state["ranker"], state["store"], state["catalog"]
        context = ["job_id", "skill_ids", "skill_gaps", "skill_required_levels", "completed_course_ids"]
        me = store.get_online_features(features=[f"employee_monthly:{c}" for c in context],
                                       entity_rows=[{"employee_id": employee_id}]).to_dict()
        if me["job_id"][0] is None:
            raise HTTPException(404, f"employee {employee_id} not found")
        skills, gaps = me["skill_ids"][0] or [], me["skill_gaps"][0] or []
        lacking = {s: g for s, g in zip(skills, gaps, strict=False) if g is not None and g > 0}
        candidates = catalog.index.candidates(lacking, me["completed_course_ids"][0] or [])
        if not candidates:
            return {"employee_id": employee_id, "courses": []}
        service = store.get_feature_service(model.feature_service_)
        rows = [{"employee_id": employee_id, "course_id": c, "job_id": me["job_id"][0]} for c in candidates]
        frame = pd.DataFrame(store.get_online_features(features=service, entity_rows=rows).to_dict())
        frame = frame.assign(course_id=candidates, skill_ids=[skills] * len(frame), skill_gaps=[gaps] * len(frame),
                             skill_required_levels=[me["skill_required_levels"][0] or []] * len(frame),
                             course_skill_ids=[catalog.course_skill_ids.get(c, []) for c in candidates])
        recs = model.recommend(frame, k=k)
        shown = frame.set_index("course_id").loc[recs["course_id"]].reset_index()
        X = model._matrix(shown)
        explainer = shap.TreeExplainer(model.booster_)
        values = explainer.shap_values(X)
        out = []
        for i, r in enumerate(recs.itertuples()):
            order = sorted(range(X.shape[1]), key=lambda j: -abs(values[i][j]))[:5]
            out.append({"course_id": r.course_id, "rank": int(r.rank), "score": float(r.score),
                        "explanation": {"base_value": float(explainer.expected_value),
                                        "contributions": [{"feature": X.columns[j], "contribution": float(values[i][j])}
                                                          for j in order]}})
        return {"employee_id": employee_id, "courses": out}

    return app


def _pandas_risk(model, frame):
    """P(exit within h), h = 1..12, the straightforward way: the model's frame, one copy per month stacked,
    LightGBM's pandas input (what ``AttritionModel.predict_risk`` did before its numpy path; the same numbers)."""
    import numpy as np
    import pandas as pd

    X = model._matrix(frame, 0)
    stacked = pd.concat([X.assign(months_ahead=k) for k in range(12)], ignore_index=True)
    raw = model.booster_.predict(stacked, raw_score=True).reshape(12, len(frame)).T
    q = 1.0 / (1.0 + np.exp(-(model.platt_[0] * raw + model.platt_[1])))
    return 1.0 - np.cumprod(1.0 - q, axis=1)


# ---------------------------------------------------------------------- servers
def start_server(app: str, port: int, workers: int, home: Path, env_extra: dict | None = None) -> subprocess.Popen:
    """Both implementations run as ``talentloop serve`` does (``serving.workers.serve``: a SO_REUSEPORT socket
    per worker), so the comparison is of the apps, not of how connections reach the workers."""
    env = {**os.environ, "TALENTLOOP_HOME": str(home), **(env_extra or {})}
    root = str(Path(__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    code = (f"import sys; from serving.workers import serve; "
            f"sys.exit(serve({app!r}, {HOST!r}, {port}, {workers}, 'warning'))")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=root)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server started here (by its own process id): terminate, then kill if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def wait_ready(port: int, path: str, headers: dict, timeout: float = 180.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    raise TimeoutError(f"server on port {port} not ready after {timeout}s")


# ---------------------------------------------------------------------- load generator (its own process)
async def _request(reader, writer, path: str, headers: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{headers}\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def _drive(port: int, paths: list[str], headers: dict, rate: float | None, seconds: float,
                 connections: int) -> dict:
    hdr = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    conns = [await asyncio.open_connection(HOST, port) for _ in range(connections)]
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    end = start + seconds
    hard_stop = end + max(2.0, seconds / 2)
    counter = iter(range(10**9))

    async def worker(slot: int) -> None:
        nonlocal errors
        while True:
            i = next(counter)
            scheduled = start + i / rate if rate else time.perf_counter()
            if scheduled >= end or time.perf_counter() >= hard_stop:
                return  # bounded: nothing is sent after the phase (plus a grace period for a backlog)
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            reader, writer = conns[slot]
            try:
                status = await asyncio.wait_for(_request(reader, writer, paths[i % len(paths)], hdr), timeout=10)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                status = 0  # closed by the server or no answer in 10 s: counted as an error, reconnect
                writer.close()
                conns[slot] = await asyncio.open_connection(HOST, port)
            latencies.append(time.perf_counter() - scheduled)
            errors += status != 200

    await asyncio.gather(*(worker(k) for k in range(len(conns))))
    elapsed = time.perf_counter() - start
    for _, w in conns:
        w.close()
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    scheduled_total = int(seconds * rate) if rate else len(latencies)
    errors += max(0, scheduled_total - len(latencies))  # scheduled but never sent in time: counted as failures
    return {"n": len(latencies), "errors": errors, "rps": len(latencies) / elapsed, "p50_ms": q(0.50),
            "p99_ms": q(0.99), "max_ms": latencies[-1] * 1000 if latencies else float("nan")}


def _load_process(args: tuple, out) -> None:
    out.put(asyncio.run(_drive(*args)))


def _cpu_seconds(server: subprocess.Popen) -> float | None:
    """User + system CPU seconds of the server's worker processes so far (Linux ``/proc``; None elsewhere)."""
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def load(port: int, paths: list[str], headers: dict, rate: float | None, seconds: float, connections: int) -> dict:
    """Run the load generator in another process (so it does not share the server's interpreter)."""
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=_load_process, args=((port, paths, headers, rate, seconds, connections), queue))
    proc.start()
    result = queue.get(timeout=seconds + 300)
    proc.join(timeout=30)
    return result


# ---------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("TALENTLOOP_HOME", ".talentloop")))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of unmeasured load before the phases.")
    parser.add_argument("--port", type=int, default=18321)
    parser.add_argument("--only", default="", help="Run only the phases whose name contains this text "
                        "(e.g. 'course', 'saturation').")
    parser.add_argument("--impl", choices=("both", "ours", "baseline"), default="both",
                        help="Which implementation to drive.")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON too.")
    args = parser.parse_args()
    home = args.home.resolve()
    root = str(Path(__file__).resolve().parents[1])
    sys.path[:] = [root] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

    import pandas as pd

    from features.app_db import connect
    from features.build import feature_path
    from features.settings import Settings
    from serving.auth import create_key

    settings = Settings(home=home)
    con = connect(settings.app_db)
    key = create_key(con, "hr_system", name="bench").key
    con.close()
    snap = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"),
                           columns=["employee_id", "event_timestamp"])
    ids = snap.loc[snap["event_timestamp"] == snap["event_timestamp"].max(), "employee_id"].tolist()
    random.Random(0).shuffle(ids)
    auth = {"Authorization": f"Bearer {key}"}
    risk = [f"/v1/employees/{e}/attrition-risk?levers=false" for e in ids]
    risk_levers = [f"/v1/employees/{e}/attrition-risk" for e in ids]
    risk_live = [f"/v1/employees/{e}/attrition-risk?levers=false&horizon_months=4" for e in ids]
    risk_live_levers = [f"/v1/employees/{e}/attrition-risk?horizon_months=4" for e in ids]
    recs = [f"/v1/employees/{e}/course-recommendations?k=10" for e in ids]

    rows = []
    if args.impl != "baseline":
        ours = start_server("serving.app:create_app", args.port, args.workers, home)
        try:
            wait_ready(args.port, "/v1/models", auth)
            time.sleep(2.0)
            # warm-up, not measured: every worker, the stores' pages and the audit log's first checkpoints
            for paths, rate in ((risk_live_levers, 100), (recs, 50)):
                load(args.port, paths, auth, rate, args.warmup, 8)
            models = json.loads(urllib.request.urlopen(urllib.request.Request(
                f"http://{HOST}:{args.port}/v1/models", headers=auth)).read())
            has_ranker = any(m["name"] == "course_ranker" for m in models["models"])
            plan = [
                ("attrition risk + explanation (precomputed), 200 req/s", risk, 200, 16),
                ("attrition risk + explanation (live, h=4), 200 req/s", risk_live, 200, 16),
                ("attrition risk + explanation + levers, 200 req/s", risk_levers, 200, 16),
                ("attrition risk + explanation + levers (live, h=4), 200 req/s", risk_live_levers, 200, 16),
                ("attrition risk + explanation, saturation", risk, None, 32),
                ("attrition risk + explanation + levers (live, h=4), saturation", risk_live_levers, None, 32),
            ]
            if has_ranker:
                plan += [("top-10 course recommendations + reasons, 100 req/s", recs, 100, 16),
                         ("top-10 course recommendations + reasons, saturation", recs, None, 32)]
            plan = [p for p in plan if args.only in p[0]]
            for name, paths, rate, conns in plan:
                print(f"ours: {name}", file=sys.stderr, flush=True)
                before = _cpu_seconds(ours)
                result = load(args.port, paths, auth, rate, args.seconds, conns)
                after = _cpu_seconds(ours)
                if before is not None and after is not None and result["n"]:
                    result["cpu_ms_per_request"] = (after - before) / result["n"] * 1000
                rows.append(("ours", name, result))
        finally:
            stop_server(ours)
    if args.impl != "ours":
        plain = [p.replace("?levers=false", "") + "?horizon_months=4" for p in risk]
        base_plan = [("attrition risk + explanation, saturation", plain, None, 32),
                     ("attrition risk + explanation (live, h=4), 200 req/s", plain, 200, 16),
                     ("top-10 course recommendations + reasons, saturation", recs, None, 32),
                     ("top-10 course recommendations + reasons, 100 req/s", recs, 100, 16)]
        for name, paths, rate, conns in [p for p in base_plan if args.only in p[0]]:
            # a fresh server per phase: an overloaded phase leaves the requests its load generator gave up on
            # running in the server's thread pool, which would slow the next phase
            base = start_server("bench.serve:baseline_app", args.port + 1, args.workers, home)
            try:
                wait_ready(args.port + 1, paths[0], {})
                load(args.port + 1, paths[:20], {}, None, 2.0, 4)
                print(f"baseline: {name}", file=sys.stderr, flush=True)
                rows.append(("baseline", name, load(args.port + 1, paths, {}, rate, args.seconds, conns)))
            finally:
                stop_server(base)
    print(f"\nserving benchmark: {args.workers} worker(s), {args.seconds:.0f} s per phase, {len(ids)} employees\n")
    cpu = any("cpu_ms_per_request" in r for _, _, r in rows)  # the workers' CPU time (Linux /proc only)
    print(f"{'impl':9} {'phase':64} {'n':>6} {'failed':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
          + (f" {'cpu ms/req':>10}" if cpu else ""))
    for impl, name, r in rows:
        print(f"{impl:9} {name:64} {r['n']:6d} {r['errors']:6d} {r['rps']:8.0f} {r['p50_ms']:8.1f} "
              f"{r['p99_ms']:8.1f} {r['max_ms']:8.1f}"
              + (f" {r['cpu_ms_per_request']:10.2f}" if "cpu_ms_per_request" in r else (" " * 11 if cpu else "")))
    by = {(i, n): r for i, n, r in rows}
    for name in sorted({n for i, n in by if i == "baseline"}):
        if ("ours", name) in by:
            o, b = by[("ours", name)], by[("baseline", name)]
            print(f"speed-up, {name}: p99 {b['p99_ms'] / o['p99_ms']:.1f}×, throughput {o['rps'] / b['rps']:.1f}×")
    if args.json:
        print(json.dumps([{"impl": i, "phase": n, **r} for i, n, r in rows]))


if __name__ == "__main__":
    main()
