"""Screenshots of the HR partner console's pages, in English and Chinese, into docs/console/*.png.

    TALENTLOOP_HOME=/tmp/console-home .venv/bin/python -m bench.console_screenshots --port 18150

Starts ``talentloop serve`` on 127.0.0.1 over the workspace, creates an hr_partner key for the division with
the most alerts, signs in with the system Chromium (/usr/bin/chromium through /usr/bin/chromedriver; nothing
is downloaded) and saves the alert queue, an alert's detail, the unit overview and the model panel at
1280 × 900 (the detail page twice: top and, scrolled, its levers, courses, band rate and review form).
Prints the files written.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("queue", "detail", "unit", "model")


def _partner_key(home: Path) -> tuple[str, str, str]:
    """A new hr_partner key for the division with the most alerts, the division, and its riskiest alert of the
    latest month."""
    from features.app_db import connect
    from features.offline import read_clean
    from features.settings import Settings
    from serving.auth import OrgTree, create_key

    settings = Settings(home=home)
    tree = OrgTree(read_clean(settings, "org_units"))
    root = next(u for u, p in tree.parent.items() if p is None)
    con = sqlite3.connect(settings.app_db)
    alerts = con.execute("SELECT org_unit_id FROM attrition_alerts").fetchall()
    con.close()
    counts = {d: sum(1 for (u,) in alerts if u in tree.subtree(d)) for d in tree.children[root]}
    division = max(sorted(counts), key=lambda d: counts[d])
    sub = sorted(tree.subtree(division))
    con = connect(settings.app_db)
    try:
        alert = con.execute(f"SELECT alert_id FROM attrition_alerts WHERE as_of = (SELECT MAX(as_of) FROM "
                            f"attrition_alerts) AND org_unit_id IN ({','.join('?' * len(sub))}) ORDER BY risk DESC "
                            f"LIMIT 1", sub).fetchone()[0]
        return create_key(con, "hr_partner", (division,), "Li Na (HRBP)").key, division, alert
    finally:
        con.close()


def _wait(port: int, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"talentloop serve exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/console/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the console did not answer on port {port} within {seconds:.0f} s")


def _driver():
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--hide-scrollbars"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("TALENTLOOP_HOME", ".talentloop")))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    parser.add_argument("--port", type=int, default=18150)
    parser.add_argument("--langs", default="en,zh")
    args = parser.parse_args()
    from selenium.webdriver.common.by import By

    key, division, alert = _partner_key(args.home)
    env = {**os.environ, "TALENTLOOP_HOME": str(args.home), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("talentloop")), "serve", "--host", "127.0.0.1",
                             "--port", str(args.port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    written = []
    try:
        _wait(args.port, proc)
        base = f"http://127.0.0.1:{args.port}"
        b = _driver()
        try:
            b.get(f"{base}/console/login?lang=en")
            b.find_element(By.ID, "key").send_keys(key)
            b.find_element(By.ID, "sign-in").click()
            args.out.mkdir(parents=True, exist_ok=True)
            for lang in args.langs.split(","):
                urls = {"queue": f"/console/alerts?page_size=25&lang={lang}", "detail": f"/console/alerts/{alert}?lang={lang}",
                        "unit": f"/console/units?unit={division}&lang={lang}", "model": f"/console/model?lang={lang}"}
                for page in PAGES:
                    b.get(base + urls[page])
                    path = args.out / f"{page}-{lang}.png"
                    b.save_screenshot(str(path))
                    written.append(path)
                    if page == "detail":  # the lower half: levers, courses, band rate, review form and history
                        b.execute_script("document.getElementById('h-levers').scrollIntoView()")
                        path = args.out / f"detail-review-{lang}.png"
                        b.save_screenshot(str(path))
                        written.append(path)
        finally:
            b.quit()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    for p in written:
        print(f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}  {p.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
