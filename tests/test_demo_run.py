"""``talentloop demo`` as a person runs it: no warning line on stderr, URLs for the host and port given, and
a second run on the same workspace that redoes nothing whose inputs are unchanged (``--force`` redoes)."""

from __future__ import annotations

import os
import subprocess
import sys

from features.stamps import Stamps, code_digest, digest, files_fingerprint
from talentloop.cli.demo import REGISTERED, base_url, tryout_lines
from talentloop.cli.demo_closing import model_lines, model_status

SMALL = ["--employees", "300", "--months", "36", "--seed", "11"]  # 24 months are too few for the course ranker


def _demo(args: list[str], home) -> subprocess.CompletedProcess:
    env = {**os.environ, "TALENTLOOP_HOME": str(home), "OMP_NUM_THREADS": "1"}
    env.pop("MLFLOW_LOGGING_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "talentloop", "demo", *args], env=env, capture_output=True,
                          text=True, timeout=1800)


def test_demo_is_quiet_prints_where_to_go_and_a_second_run_skips_what_is_unchanged(tmp_path):
    home = tmp_path / "ws"
    first = _demo([*SMALL, "--host", "127.0.0.2", "--port", "8123"], home)
    assert first.returncode == 0, first.stderr[-3000:]
    warnings = [line for line in first.stderr.splitlines() if "Warning" in line]
    assert warnings == []
    assert "http://127.0.0.2:8123/v1/docs" in first.stdout
    assert "http://127.0.0.2:8123/console" in first.stdout
    # every model registered; the closing lines say which version serves (the potential model's gate may refuse it)
    status = model_status(home / "mlflow.db", REGISTERED.values())
    assert all(s["latest"] == "1" for s in status.values()), status
    assert status["attrition"]["champion"] == "1"
    potential_served = status["potential"]["champion"] is not None
    for line in model_lines(status):
        assert line in first.stdout
    assert ("/v1/talent-pool?" in first.stdout) == potential_served
    assert first.stdout.count("curl -s -H 'Authorization: Bearer ") == 3 + potential_served
    assert ("talentloop score potential: not run" in first.stderr) == (not potential_served)
    assert "unchanged" not in first.stderr

    again = _demo(SMALL, home)
    assert again.returncode == 0, again.stderr[-3000:]
    skipped = [line for line in again.stderr.splitlines() if "inputs unchanged since the last demo, skipped" in line]
    # every step but ingest, which finds its inputs unchanged by itself (and score potential when not run)
    assert len(skipped) == 10 + potential_served
    assert "inputs unchanged since the last ingest" in again.stderr
    assert "http://127.0.0.1:8000/v1/docs" in again.stdout


def test_closing_lines_say_which_version_serves(tmp_path):
    status = {"attrition": {"latest": "1", "champion": "1"}, "potential": {"latest": "2", "champion": None},
              "course_ranker": {"latest": "3", "champion": "2"}, "skill_demand": {"latest": None, "champion": None}}
    lines = model_lines(status)
    assert lines[0].split() == ["model", "attrition:", "v1", "registered", "and", "served"]
    assert "v2 registered, not served: the gate refused it (`talentloop deployments potential`" in lines[1]
    assert "v2 served; v3 registered, not promoted" in lines[2] and "deployments course-ranker" in lines[2]
    assert lines[3].endswith("not registered")
    text = "\n".join(tryout_lines("k", "E1", "127.0.0.1", 8000, tmp_path, status))
    assert "/v1/talent-pool" not in text and text.count("curl -s") == 3
    status["potential"]["champion"] = "2"
    assert "/v1/talent-pool?" in "\n".join(tryout_lines("k", "E1", "127.0.0.1", 8000, tmp_path, status))
    assert model_status(tmp_path / "no-such.db", ["attrition"]) == {"attrition": {"latest": None, "champion": None}}


def test_stamps_match_only_the_same_inputs(tmp_path):
    stamps = Stamps(tmp_path)
    assert not stamps.fresh("features build", "abc")
    stamps.record("features build", "abc")
    assert Stamps(tmp_path).fresh("features build", "abc")  # read back from the workspace
    assert not Stamps(tmp_path).fresh("features build", "abd")
    stamps.forget("features build")
    assert not Stamps(tmp_path).fresh("features build", "abc")


def test_digests_change_with_data_options_and_code(tmp_path):
    f = tmp_path / "t.parquet"
    f.write_bytes(b"1")
    before = files_fingerprint([f])
    f.write_bytes(b"12")
    assert files_fingerprint([f]) != before
    assert files_fingerprint([tmp_path / "missing"]) == [("missing", -1, -1)]
    assert digest("v1", 300) != digest("v1", 301)
    assert code_digest(("features",)) != code_digest(("models",))


def test_urls_are_those_a_person_on_this_machine_opens(tmp_path):
    assert base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert base_url("::", 9000) == "http://[::1]:9000"
    assert base_url("10.1.2.3", 8080) == "http://10.1.2.3:8080"
    lines = "\n".join(tryout_lines("tl_key", "E1", "0.0.0.0", 8080, tmp_path))
    assert "talentloop serve --host 0.0.0.0 --port 8080" in lines
    assert "http://127.0.0.1:8080/v1/employees/E1/attrition-risk" in lines
    assert f"sqlite:///{tmp_path.resolve()}/mlflow.db" in lines


def test_a_step_is_skipped_only_with_the_same_digest_its_outputs_and_no_force(tmp_path):
    from talentloop.cli.demo import Step, _registered, _unchanged

    stamps = Stamps(tmp_path)
    outputs = {"there": True}
    step = Step("features build", ["features", "build"], lambda: ("d1", outputs["there"]))
    assert _unchanged(step, stamps, force=False) == ("d1", False)  # never ran
    stamps.record("features build", "d1")
    assert _unchanged(step, stamps, force=False) == ("d1", True)
    assert _unchanged(step, stamps, force=True) == ("d1", False)
    outputs["there"] = False  # e.g. the feature files were deleted
    assert _unchanged(step, stamps, force=False) == ("d1", False)
    assert _unchanged(Step("ingest", ["ingest", "x"]), stamps, force=False) == (None, False)
    assert not _registered(tmp_path / "mlflow.db", "attrition")  # no database: nothing registered
