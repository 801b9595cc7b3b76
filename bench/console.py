"""Server-side render time of the HR partner console: the alert queue showing 500 alerts and the alert detail.

    TALENTLOOP_HOME=/tmp/console-home .venv/bin/python -m bench.console --alerts 500

On a workspace built by ``talentloop demo`` (the demo company: 2,000 employees × 36 months, seed 7). When it
holds fewer than ``--alerts`` alerts, earlier months are batch-scored (``talentloop score attrition --as-of``)
until it does. Signs in as an hr_partner granted the root unit (sees every alert, through the same scope
checks as any partner), then times requests to the app in-process (the full ASGI stack: session, scope,
SQL, people lookup, sorting, template, audit rows; no network): the queue at 500 rows per page, sorted by
risk, and the detail page of different alerts (curve, waterfall, levers, course ranker, band rate,
history). Wall time and the process's CPU time per request (the CPU column is less sensitive to other jobs
on a shared machine). Targets: queue ≤ 150 ms p95, detail ≤ 100 ms p95.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _ensure_alerts(settings, wanted: int) -> int:
    from training_jobs import score_attrition
    from training_jobs.attrition import feature_window

    last = feature_window(settings)[1]
    back = 1
    while True:
        con = sqlite3.connect(settings.app_db)
        n = con.execute("SELECT COUNT(*) FROM attrition_alerts").fetchone()[0]
        scored = {r[0] for r in con.execute("SELECT DISTINCT as_of FROM attrition_scores")}
        con.close()
        if n >= wanted or back > 12:
            return n
        month = (last - pd.DateOffset(months=back)).date()
        if str(month) not in scored:
            print(f"scoring {month} to raise more alerts ({n} so far)")
            score_attrition.run(settings, as_of=str(month))
        back += 1


def _stats(ms: list[float]) -> tuple[float, float, float]:
    return statistics.median(ms), float(np.percentile(ms, 95)), max(ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("TALENTLOOP_HOME", ".talentloop")))
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from fastapi.testclient import TestClient

    from features.app_db import connect
    from features.offline import read_clean
    from features.settings import Settings
    from serving.app import create_app
    from serving.auth import create_key

    settings = Settings(home=args.home)
    total = _ensure_alerts(settings, args.alerts)
    units = read_clean(settings, "org_units")
    root = str(units.loc[units["parent_id"].isna(), "org_unit_id"].iloc[0])
    con = connect(settings.app_db)
    key = create_key(con, "hr_partner", (root,), "bench partner").key
    con.close()
    with TestClient(create_app(settings)) as c:
        page = c.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert c.post("/console/login", data={"key": key, "csrf": token}, follow_redirects=False).status_code == 303
        url = "/console/alerts?page_size=500&sort=risk"
        first = c.get(url)
        shown = len(re.findall(r"data-alert=", first.text))
        ids = re.findall(r'data-alert="([^"]+)"', first.text)
        for _ in range(5):  # warm-up
            c.get(url)
            c.get(f"/console/alerts/{ids[0]}")
        queue_ms, detail_ms, queue_cpu, detail_cpu = [], [], [], []
        for i in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            r = c.get(url)
            queue_ms.append((time.perf_counter() - t0) * 1000)
            queue_cpu.append((time.process_time() - c0) * 1000)
            assert r.status_code == 200
            t0, c0 = time.perf_counter(), time.process_time()
            r = c.get(f"/console/alerts/{ids[(i * 7) % len(ids)]}")
            detail_ms.append((time.perf_counter() - t0) * 1000)
            detail_cpu.append((time.process_time() - c0) * 1000)
            assert r.status_code == 200
    load = os.getloadavg()[0]
    print(f"workspace {args.home}: {total:,} alerts; queue page shows {shown}; {args.repeat} requests each; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    print()
    print("| page | rows | wall p50 ms | wall p95 ms | wall max ms | CPU p50 ms | CPU p95 ms | target p95 | met (wall) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rows, ms, cpu, target in (("alert queue", shown, queue_ms, queue_cpu, 150),
                                        ("alert detail", 1, detail_ms, detail_cpu, 100)):
        p50, p95, mx = _stats(ms)
        c50, c95, _ = _stats(cpu)
        print(f"| {name} | {rows} | {p50:.1f} | {p95:.1f} | {mx:.1f} | {c50:.1f} | {c95:.1f} | {target} | "
              f"{'yes' if p95 <= target else 'no'} |")


if __name__ == "__main__":
    main()
