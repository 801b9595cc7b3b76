"""``talentloop demo``: each step is the real command run in-process; a failing step stops the demo."""

from __future__ import annotations

import pytest
import typer

from talentloop.cli import _common, app
from talentloop.cli.demo import run_step
from tests.factories import company, write_feeds


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path / "home"))
    _common.settings.cache_clear()
    yield tmp_path / "home"
    _common.settings.cache_clear()


def test_a_step_runs_the_command_in_process(tmp_path, home):
    seconds = run_step(app, ["ingest", str(write_feeds(tmp_path / "in", company()))])
    assert seconds > 0
    assert (home / "reports" / "ingest-latest.json").exists()


def test_a_failing_step_stops_the_demo_with_its_exit_code(tmp_path, home, capsys):
    t = company()
    t["courses"] = t["courses"].drop(columns=["hours"])  # schema drift: the learning feed fails (exit 1)
    with pytest.raises(typer.Exit) as stopped:
        run_step(app, ["ingest", str(write_feeds(tmp_path / "in", t))])
    assert stopped.value.exit_code == 1
    assert "demo stopped: `talentloop ingest" in capsys.readouterr().err


def test_a_usage_error_stops_the_demo_with_exit_2(home, capsys):
    with pytest.raises(typer.Exit) as stopped:
        run_step(app, ["train", "no-such-model"])
    assert stopped.value.exit_code == 2
    assert "no-such-model" in capsys.readouterr().err
