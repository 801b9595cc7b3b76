"""Team diagnosis: the rules on hand-typed tables (fires at the share, not below it; small groups skipped; job
families; point in time; courses that fit the group), the outgoing webhook against a real local HTTP receiver
(signature, retries with backoff, every attempt logged, no resend), the CLI and the API on the serving workspace."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from models.training_needs.diagnose import diagnose
from models.training_needs.rules import NeedRules, load_rules
from tests.serving_workspace import auth, problem

PORT = 8661  # this suite's receiver (h21b's ports 8660-8669)


def _tables(n_low: int, n: int = 5, family: str = "sales") -> dict[str, pd.DataFrame]:
    people = [f"P{i}" for i in range(n)]
    day = pd.Timestamp("2024-01-05")
    return {
        "org_units": pd.DataFrame({"org_unit_id": ["R", "T1"], "parent_id": [None, "R"], "unit_type": ["company", "team"],
                                   "name_en": ["Co", "Sales Team"], "name_zh": ["公司", "销售组"]}),
        "employees": pd.DataFrame({"employee_id": people, "hire_date": pd.Timestamp("2020-01-01")}),
        "employment_events": pd.DataFrame({"event_id": [f"e{p}" for p in people], "employee_id": people,
                                           "effective_date": pd.Timestamp("2020-01-01"), "event_type": "hire",
                                           "org_unit_id": "T1", "job_id": "J1"}),
        "jobs": pd.DataFrame({"job_id": ["J1"], "level": [2], "family": [family]}),
        "skills": pd.DataFrame({"skill_id": ["S1"], "name_en": ["Negotiation"], "name_zh": ["谈判"]}),
        "competency_ratings": pd.DataFrame({"employee_id": people, "skill_id": "S1", "review_date": day,
                                            "rating": [2] * n_low + [4] * (n - n_low)}),
        "reviews": pd.DataFrame({"employee_id": people, "review_date": day, "overall_rating": 3,
                                 "kpi_attainment": [0.5] * n_low + [1.0] * (n - n_low)}),
        "courses": pd.DataFrame({"course_id": ["K1", "K2", "K3"], "title_en": ["Negotiation I", "Negotiation II",
                                                                              "Future course"],
                                 "title_zh": ["谈判一", "谈判二", "未来课程"], "format": "online", "hours": [4.0, 2.0, 1.0],
                                 "cost": [100.0, 80.0, 10.0],
                                 "created_at": pd.to_datetime(["2019-01-01", "2019-01-01", "2024-03-01"])}),
        "course_skills": pd.DataFrame({"course_id": ["K1", "K2", "K3"], "skill_id": "S1", "target_level": 4}),
        "enrollments": pd.DataFrame({"employee_id": ["P0", "P1"], "course_id": ["K2", "K2"], "status": "completed",
                                     "completed_at": pd.Timestamp("2023-06-01")}),
    }


def test_rules_fire_at_the_share_and_name_the_fitting_courses():
    found = diagnose(_tables(n_low=4), NeedRules(), "2024-02")
    kinds = sorted(f["rule"] for f in found)
    assert kinds == ["competency_below_3", "kpi_below_70"]  # 4 of 5 = 80 %; nobody has a rating below 3
    comp = next(f for f in found if f["kind"] == "competency")
    assert (comp["org_unit_id"], comp["skill_id"], comp["n_below"], comp["n_assessed"]) == ("T1", "S1", 4, 5)
    # K2 was completed by two of the four: K1 fits all four; K3 does not exist yet in February
    assert [(c["course_id"], c["fits"]) for c in comp["courses"]] == [("K1", 4), ("K2", 2)]
    assert comp["courses"][0]["group_cost"] == 400.0
    assert "80% of Sales Team (4 of 5 rated)" in comp["text"]["en"] and "谈判" in comp["text"]["zh"]
    assert "Negotiation I" in comp["text"]["en"]
    kpi = next(f for f in found if f["kind"] == "kpi")
    assert kpi["skill_id"] is None and [s["skill_id"] for s in kpi["focus_skills"]] == ["S1"]


def test_rules_do_not_fire_below_the_share_for_small_groups_other_families_or_future_rows():
    assert diagnose(_tables(n_low=3), NeedRules(), "2024-02") == []  # 60 %
    assert diagnose(_tables(n_low=4), NeedRules(min_group=6), "2024-02") == []
    only_it = NeedRules(rules=[{"name": "it", "kind": "competency", "below": 3, "job_families": ["engineering"]}])
    assert diagnose(_tables(n_low=5), only_it, "2024-02") == []
    assert diagnose(_tables(n_low=5), NeedRules(), "2024-01") == []  # the ratings are dated 5 January
    stale = NeedRules(max_age_months=1)
    assert diagnose(_tables(n_low=5), stale, "2024-06") == []


def test_bad_rules_file_names_file_and_field(tmp_path):
    (tmp_path / "training_needs.yaml").write_text("rules:\n  - {name: x, kind: kpi, below: 70}\n")
    with pytest.raises(ValueError, match=r"training_needs\.yaml: field rules\.0\.below"):
        load_rules(tmp_path)
    (tmp_path / "training_needs.yaml").write_text("rules:\n  - {name: x, kind: kpi, below: 4}\n")
    with pytest.raises(ValueError, match=r"training_needs\.yaml: .*fraction of target"):
        load_rules(tmp_path)
    (tmp_path / "training_needs.yaml").write_text("unit_level: squad\n")
    with pytest.raises(ValueError, match="field unit_level"):
        load_rules(tmp_path)


# ---------------------------------------------------------------------- the webhook against a real receiver
class Receiver:
    """A local HTTP server answering the statuses in ``plan`` in turn (then 200), recording each request."""

    def __init__(self, port: int, plan: list[int]):
        self.plan, self.requests = list(plan), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.headers, body))  # case-insensitive lookups
                status = outer.plan.pop(0) if outer.plan else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


FINDINGS = [{"finding_id": "need-202402-abc", "org_unit_id": "T1", "text": {"en": "x", "zh": "x"}}]


def _store_findings(con, findings=FINDINGS):
    from models.training_needs import store

    store.write(con, "2024-02-01", [{**f, "rule": "r", "kind": "kpi", "skill_id": None, "share_below": 0.8,
                                     "n_below": 4, "n_assessed": 5} for f in findings])


def test_webhook_signed_retried_with_backoff_and_logged(tmp_path):
    from features.app_db import connect
    from models.training_needs import store, webhook

    webhook.save_config(tmp_path, webhook.WebhookConfig(url=f"http://127.0.0.1:{PORT}/hook", max_attempts=4,
                                                        backoff_seconds=0.05))
    key = webhook.secret(tmp_path, create=True)
    waits = []
    with closing(connect(tmp_path / "app.db")) as con, Receiver(PORT, [500, 503]) as rx:
        _store_findings(con)
        pending, _ = store.findings(con, undelivered=True)
        sent = webhook.deliver(con, tmp_path, pending, "2024-02-01", sleep=waits.append)
        assert sent["status"] == "delivered" and sent["attempts"] == 3
        assert waits == [0.05, 0.1]  # backoff doubles
        assert len(rx.requests) == 3
        bodies = {body for _, body in rx.requests}
        assert len(bodies) == 1  # the same body (and signature) on every attempt
        headers, body = rx.requests[-1]
        assert webhook.verify(key, body, headers["X-TalentLoop-Signature-256"])
        assert not webhook.verify("another-secret", body, headers["X-TalentLoop-Signature-256"])
        assert headers["X-TalentLoop-Attempt"] == "3" and json.loads(body)["findings"][0]["finding_id"] == "need-202402-abc"
        log = store.attempts(con)
        assert sorted((r["attempt"], r["status_code"], r["outcome"]) for r in log) == [
            (1, 500, "will_retry"), (2, 503, "will_retry"), (3, 200, "delivered")]
        assert store.findings(con, undelivered=True)[0] == []  # delivered: never sent again
        _store_findings(con)  # re-scoring the month keeps the delivery
        assert store.findings(con, undelivered=True)[0] == []
    assert oct((tmp_path / webhook.SECRET_FILE).stat().st_mode)[-3:] == "600"


def test_webhook_gives_up_on_client_errors_and_when_nobody_answers(tmp_path):
    from features.app_db import connect
    from models.training_needs import store, webhook

    webhook.save_config(tmp_path, webhook.WebhookConfig(url=f"http://127.0.0.1:{PORT + 1}/hook", max_attempts=3,
                                                        backoff_seconds=0))
    with closing(connect(tmp_path / "app.db")) as con:
        _store_findings(con)
        pending, _ = store.findings(con, undelivered=True)
        with Receiver(PORT + 1, [400]) as rx:
            assert webhook.deliver(con, tmp_path, pending, "2024-02-01")["status"] == "failed"
            assert len(rx.requests) == 1  # a 400 is not retried
        gone = webhook.deliver(con, tmp_path, pending, "2024-02-01")  # the receiver is down: connection refused
        assert gone == {**gone, "status": "failed", "attempts": 3}
        refused = [r for r in store.attempts(con) if r["delivery_id"] == gone["delivery_id"]]
        assert [r["outcome"] for r in sorted(refused, key=lambda r: r["attempt"])] == ["will_retry", "will_retry",
                                                                                       "failed"]
        assert all(r["status_code"] is None and r["error"] for r in refused)
        assert len(store.findings(con, undelivered=True)[0]) == 1  # still pending: `webhook send` retries later


def test_bad_webhook_url_is_refused(tmp_path):
    from models.training_needs import webhook

    with pytest.raises(ValueError, match="http:// or https://"):
        webhook.WebhookConfig(url="ftp://example.org/x")


# ---------------------------------------------------------------------- CLI and API on the serving workspace
def test_score_points_diagnoses_sends_and_serves(client, keys, workspace, tmp_path):
    import os
    from pathlib import Path

    from models.training_needs import webhook

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TALENTLOOP_HOME": str(workspace.settings.home), "OMP_NUM_THREADS": "1"}
    loose = "rules:\n  - {name: competency_below_3, kind: competency, below: 3, share: 0.5}\n"
    (workspace.settings.home / "training_needs.yaml").write_text(loose)
    try:
        _score_send_and_serve(client, keys, workspace, root, env)
    finally:  # the serving workspace is shared by the session's other tests
        for name in ("training_needs.yaml", webhook.CONFIG_FILE):
            (workspace.settings.home / name).unlink(missing_ok=True)


def _score_send_and_serve(client, keys, workspace, root, env):
    import subprocess
    import sys

    from models.training_needs import webhook

    cli = [sys.executable, "-m", "talentloop"]
    done = subprocess.run([*cli, "webhook", "set-url", f"http://127.0.0.1:{PORT + 2}/hook", "--backoff", "0"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    key = webhook.secret(workspace.settings.home)
    assert key and key in done.stdout
    with Receiver(PORT + 2, [502]) as rx:
        done = subprocess.run([*cli, "score", "points", "--json"], cwd=root, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["findings"] > 0 and result["webhook"] == "delivered" and result["webhook_attempts"] == 2
        headers, body = rx.requests[-1]
        assert webhook.verify(key, body, headers["X-TalentLoop-Signature-256"])
        assert len(json.loads(body)["findings"]) == result["findings"]
    with sqlite3.connect(workspace.settings.app_db) as con:
        logged = con.execute("SELECT count(*) FROM webhook_deliveries").fetchone()[0]
    assert logged >= 2

    r = client.get("/v1/training-needs?lang=zh", headers=auth(keys["hr_system"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == result["findings"] and body["as_of"] == result["as_of"]
    assert all(f["delivered_at"] for f in body["items"]) and all("低于" in f["text"] for f in body["items"])
    from models.wording.rules import violations

    english = client.get("/v1/training-needs", headers=auth(keys["hr_system"])).json()["items"]
    assert not [t for lang, items in (("zh", body["items"]), ("en", english)) for f in items
                for t in (f["text"], f["unit_name"], *[c["title"] for c in f["courses"]]) if violations(t, lang)]
    a, b = keys["units"]
    mine = client.get(f"/v1/training-needs?org_unit={a}", headers=auth(keys["partner_a"])).json()
    from serving.auth import OrgTree

    subtree = OrgTree(workspace.org_units()).subtree(a)
    assert all(f["org_unit_id"] in subtree for f in mine["items"])
    problem(client.get(f"/v1/training-needs?org_unit={b}", headers=auth(keys["partner_a"])), 404)
    problem(client.get("/v1/training-needs?as_of=2024-13", headers=auth(keys["hr_system"])), 422)
    problem(client.get("/v1/training-needs?as_of=june", headers=auth(keys["hr_system"])), 422)
    assert client.get("/v1/openapi.json").json()["paths"]["/v1/training-needs"]["get"]["security"]


def test_webhook_cli_sets_the_url_and_refuses_bad_settings_in_one_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from models.training_needs import webhook
    from talentloop.cli import _common, app

    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path))
    _common.settings.cache_clear()
    try:
        runner = CliRunner()
        bad = runner.invoke(app, ["webhook", "set-url", "ftp://x"])
        assert bad.exit_code == 2 and "URL: webhook url must be an http:// or https://" in bad.output
        bad = runner.invoke(app, ["webhook", "set-url", f"http://127.0.0.1:{PORT}/h", "--max-attempts", "0"])
        assert bad.exit_code == 2 and "--max-attempts: Input should be greater than or equal to 1" in bad.output
        assert not (tmp_path / webhook.CONFIG_FILE).exists()
        ok = runner.invoke(app, ["webhook", "set-url", f"http://127.0.0.1:{PORT}/h", "--backoff", "0.5"])
        assert ok.exit_code == 0, ok.output
        assert webhook.load_config(tmp_path) == webhook.WebhookConfig(url=f"http://127.0.0.1:{PORT}/h",
                                                                      backoff_seconds=0.5)
        assert runner.invoke(app, ["webhook", "clear"]).exit_code == 0
        assert webhook.load_config(tmp_path).url is None and webhook.secret(tmp_path)
    finally:
        _common.settings.cache_clear()
