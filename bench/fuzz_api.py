"""Fuzz the served API with schemathesis from its own OpenAPI spec, as an admin and as an hr_partner.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python bench/fuzz_api.py --home WORKSPACE [--port 8642] [--examples 50]

Copies WORKSPACE (a trained one, e.g. after `make demo`) to a temporary folder, serves it on loopback with one
worker, creates an admin and an hr_partner key, runs ``schemathesis run`` once per key (every check, fixed
seed) and prints a table: role, operations, test cases, failures. Exit code 1 when any check failed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _wait_ready(port: int, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(1)
    return False


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--port", type=int, default=8642)
    ap.add_argument("--examples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    home = work / "home"
    shutil.copytree(args.home, home)
    env = {**os.environ, "TALENTLOOP_HOME": str(home)}

    def cli(*a: str) -> str:
        return subprocess.run([str(BIN / "talentloop"), *a], env=env, capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1]

    import pandas as pd

    units = pd.read_parquet(next((home / "offline" / "clean").glob("v-*/org_units.parquet")))
    child = units.loc[units["parent_id"].notna(), "org_unit_id"].iloc[0]
    keys = {"admin": cli("keys", "create", "--role", "admin"),
            "hr_partner": cli("keys", "create", "--role", "hr_partner", "--org-unit", str(child))}
    server = subprocess.Popen([str(BIN / "talentloop"), "serve", "--port", str(args.port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "w"))  # noqa: SIM115
    rows = []
    try:
        if not _wait_ready(args.port, 600):
            print("the server did not become ready; see", work / "serve.log")
            return 1
        for role, key in keys.items():
            start = time.perf_counter()
            done = subprocess.run(
                [str(BIN / "schemathesis"), "run", f"http://127.0.0.1:{args.port}/v1/openapi.json",
                 "-H", f"Authorization: Bearer {key}", "-n", str(args.examples), "--seed", str(args.seed),
                 "--checks", "all", "--no-color"], capture_output=True, text=True, cwd=work)
            out = done.stdout + done.stderr
            (work / f"schemathesis-{role}.txt").write_text(out)
            cases = re.search(r"Test cases:\s*\n?\s*(\d+) generated", out)
            ops = re.search(r"API Operations:\s*\n?\s*Selected: (\d+)", out)
            failures = re.search(r"(\d+) found", out)
            rows.append((role, ops.group(1) if ops else "?", cases.group(1) if cases else "?",
                         failures.group(1) if failures and done.returncode else "0",
                         f"{time.perf_counter() - start:.0f}", done.returncode))
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(f"{'role':<12} {'operations':>10} {'test cases':>10} {'failures':>9} {'seconds':>8}")
    for role, ops, cases, fails, secs, _ in rows:
        print(f"{role:<12} {ops:>10} {cases:>10} {fails:>9} {secs:>8}")
    print("outputs:", work)
    return 1 if any(r[-1] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
