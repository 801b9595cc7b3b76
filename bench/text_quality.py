"""Count wording violations in what the API shows people, on a trained and scored workspace.

Renders, through the real app (FastAPI in process, real Feast and MLflow stores of the workspace), in English
and Chinese: every attrition alert, the attrition risk with drivers and levers of every scored employee, and
the top-k course recommendations of every scored employee. Counts each text rule broken and prints a table.

    .venv/bin/python bench/text_quality.py --home /tmp/demo-home [--k 10] [--limit N] [--json]

The workspace needs ``talentloop score attrition`` and ``talentloop train course-ranker`` done (``talentloop
demo`` does both). Rules: models/wording/rules.py and docs/wording.md. To count on code from before the wording
layer, copy this script and models/wording/rules.py (with an empty models/wording/__init__.py) into that checkout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# JSON keys whose string values are sentences or names a person reads
TEXT_KEYS = {"reasons", "display_name", "description", "kind", "title", "text", "why_empty", "summary",
             "band_text", "job_title", "org_unit_name", "tenure_text", "rating_text", "change_text", "drivers",
             "course_title", "cost_text", "headline", "placed_by_text", "band_name",
             "change_drivers"}
from models.wording.rules import FORBIDDEN, ZERO_TIME  # noqa: E402 - after the path insert
from models.wording.rules import count as _count_rules  # noqa: E402

ZERO_PCT = re.compile(r"(?<![\d.])0%")
MIN_LEVER_CHANGE = 0.005


def collect(obj, out: list[str], key: str | None = None) -> None:
    """Every string under a text key (lists of strings included)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            collect(v, out, k)
    elif isinstance(obj, list):
        for v in obj:
            collect(v, out, key)
    elif isinstance(obj, str) and key in TEXT_KEYS:
        out.append(obj)


def text_violations(texts: list[str], lang: str) -> Counter:
    c = _count_rules(texts, lang)
    c["0% (often a missing value)"] += sum(1 for t in texts if ZERO_PCT.search(t))
    return c


def lever_violations(levers: list[dict]) -> Counter:
    c: Counter = Counter()
    for lv in levers:
        c["levers"] += 1
        if abs(lv.get("change", 0.0)) < MIN_LEVER_CHANGE:
            c["lever change below 0.5 points"] += 1
        if lv.get("lever") == "complete_a_course" and not lv.get("course_id"):
            c["course lever names no course"] += 1
        if lv.get("lever") == "pay_to_band_midpoint" and lv.get("raise_cost") is None:
            c["pay lever without cost"] += 1
    return c


def course_violations(body: dict) -> Counter:
    c: Counter = Counter()
    courses = body.get("courses", [])
    c["course lists"] += 1
    if not courses and not body.get("why_empty"):
        c["empty list without why_empty"] += 1
    for a, b in zip(courses, courses[1:], strict=False):
        if b["score"] > a["score"] + 1e-9 and a.get("placed_by") in (None, "score"):
            c["score above the course before it, no placed_by"] += 1
    return c


def alert_violations(item: dict) -> Counter:
    c: Counter = Counter()
    c["alerts"] += 1
    ctx = item.get("context") or {}
    for f in ("job_title", "org_unit_name", "manager_id", "tenure_text", "band_text"):
        if not ctx.get(f):
            c[f"alert without {f}"] += 1
    return c


def run(home: Path, k: int, limit: int | None) -> dict:
    from fastapi.testclient import TestClient

    from features.app_db import connect
    from features.settings import Settings
    from serving.app import create_app
    from serving.auth import create_key

    settings = Settings(home=home)
    con = connect(settings.app_db)
    key = create_key(con, "admin", (), "text-quality bench").key
    as_of = con.execute("SELECT max(as_of) FROM attrition_scores").fetchone()[0]
    people = [r[0] for r in con.execute("SELECT employee_id FROM attrition_scores WHERE as_of = ? ORDER BY 1",
                                        (as_of,))]
    con.close()
    people = people[:limit] if limit else people
    counts = {lang: Counter() for lang in ("en", "zh")}
    samples: dict[str, list[str]] = {lang: [] for lang in ("en", "zh")}
    headers = {"Authorization": f"Bearer {key}"}
    started = time.time()
    with TestClient(create_app(settings)) as client:
        for lang in ("en", "zh"):
            c = counts[lang]
            page = 1
            while True:
                r = client.get("/v1/attrition-alerts", params={"page": page, "page_size": 500, "lang": lang},
                               headers=headers)
                r.raise_for_status()
                body = r.json()
                for item in body["items"]:
                    texts: list[str] = []
                    collect(item, texts)
                    c += text_violations(texts, lang)
                    c += lever_violations(item.get("levers", []))
                    c += alert_violations(item)
                    samples[lang] += [t for t in texts if FORBIDDEN.search(t) or ZERO_TIME.search(t)][:1]
                if page * 500 >= body["total"]:
                    break
                page += 1
            for e in people:
                r = client.get(f"/v1/employees/{e}/attrition-risk", params={"lang": lang}, headers=headers)
                if r.status_code == 200:
                    texts = []
                    body = r.json()
                    collect(body, texts)
                    c += text_violations(texts, lang)
                    c += lever_violations(body.get("levers", []))
                    c["stale answers"] += bool(body.get("stale"))
                    c["answers"] += 1
                r = client.get(f"/v1/employees/{e}/course-recommendations", params={"lang": lang, "k": k},
                               headers=headers)
                if r.status_code == 200:
                    texts = []
                    body = r.json()
                    collect(body, texts)
                    c += text_violations(texts, lang)
                    c += course_violations(body)
                    c["stale answers"] += bool(body.get("stale"))
                    c["answers"] += 1
    return {"home": str(home), "as_of": as_of, "employees": len(people), "seconds": round(time.time() - started, 1),
            "counts": {lang: dict(v) for lang, v in counts.items()}}


def render_alert(a: dict, lang: str) -> str:
    """One alert as an HR partner reads it."""
    ctx = a.get("context") or {}
    lines = [f"[{a['alert_id']}] {ctx.get('job_title', '')} · {ctx.get('org_unit_name', '')} · "
             f"{'经理' if lang == 'zh' else 'manager'} {ctx.get('manager_id') or '-'}",
             f"  {'3个月内离职风险' if lang == 'zh' else 'risk of leaving within 3 months'}: {a['risk']:.0%} · "
             f"{ctx.get('band_text', '')}",
             f"  {ctx.get('tenure_text', '')} · {ctx.get('rating_text', '')}",
             f"  {ctx.get('change_text', '')}",
             f"  {'原因' if lang == 'zh' else 'why'}: {'；'.join(a['explanation']['reasons']) if lang == 'zh' else '; '.join(a['explanation']['reasons'])}"]
    for lv in a.get("levers", []):
        lines.append(f"  - {lv.get('text') or lv['description']}" + (f" [{lv['cost_text']}]" if lv.get("cost_text") else ""))
    return "\n".join(lines)


def render_courses(employee: str, body: dict, lang: str, k: int = 5) -> str:
    """A course list as an HR partner reads it."""
    lines = [f"{employee}:" + (f" {body['why_empty']}" if body.get("why_empty") else "")]
    sep = "；" if lang == "zh" else "; "
    for c in body.get("courses", [])[:k]:
        extra = f" ({c['placed_by_text']})" if c.get("placed_by_text") else ""
        lines.append(f"  {c['rank']}. {c.get('title')} [{c['score']:.2f}]{extra} — {sep.join(c['explanation']['reasons'])}")
    return "\n".join(lines)


def show(home: Path, n: int) -> str:
    """``n`` alerts and ``n`` course lists of a workspace in both languages, rendered."""
    from fastapi.testclient import TestClient

    from features.app_db import connect
    from features.settings import Settings
    from serving.app import create_app
    from serving.auth import create_key

    settings = Settings(home=home)
    con = connect(settings.app_db)
    key = create_key(con, "admin", (), "text-quality show").key
    con.close()
    headers = {"Authorization": f"Bearer {key}"}
    out = []
    with TestClient(create_app(settings)) as client:
        first = client.get("/v1/attrition-alerts", params={"page_size": 200}, headers=headers).json()["items"]
        picked = first[:: max(1, len(first) // n)][:n]
        for lang in ("en", "zh"):
            out.append(f"===== alerts ({lang}) =====")
            for a in picked:
                one = client.get(f"/v1/attrition-alerts/{a['alert_id']}", params={"lang": lang}, headers=headers)
                out.append(render_alert(one.json()["alert"], lang))
        people = [a["employee_id"] for a in picked]
        for lang in ("en", "zh"):
            out.append(f"===== course recommendations, top 5 of 10 ({lang}) =====")
            for e in people:
                body = client.get(f"/v1/employees/{e}/course-recommendations", params={"lang": lang, "k": 10},
                                  headers=headers).json()
                out.append(render_courses(e, body, lang))
    return "\n".join(out)


def table(result: dict) -> str:
    rows = sorted(set(result["counts"]["en"]) | set(result["counts"]["zh"]))
    totals = [r for r in rows if r in ("texts", "levers", "course lists", "alerts", "answers")]
    rules = [r for r in rows if r not in totals]
    width = max(len(r) for r in rows) + 2
    lines = [f"text quality: {result['home']} (as of {result['as_of']}, {result['employees']} employees, "
             f"{result['seconds']} s)", f"{'rule':<{width}}{'en':>8}{'zh':>8}", "-" * (width + 16)]
    for r in totals + rules:
        lines.append(f"{r:<{width}}{result['counts']['en'].get(r, 0):>8}{result['counts']['zh'].get(r, 0):>8}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True, help="A scored workspace (TALENTLOOP_HOME).")
    ap.add_argument("--k", type=int, default=10, help="Courses per employee.")
    ap.add_argument("--limit", type=int, default=None, help="At most this many employees (default: every one).")
    ap.add_argument("--json", action="store_true", help="Print the counts as JSON.")
    ap.add_argument("--show", type=int, default=0, help="Print this many alerts and course lists, rendered, instead.")
    args = ap.parse_args()
    if not (args.home / "talentloop.db").exists():
        sys.exit(f"--home {args.home}: no talentloop.db; run `talentloop demo` (or score attrition) first")
    if args.show:
        print(show(args.home, args.show))
        return
    result = run(args.home, args.k, args.limit)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
