"""``talentloop demo``: each step is the real command run in-process; a failing step stops the demo."""

from __future__ import annotations

import pytest
import typer

from talentloop.cli import app
from talentloop.cli.demo import run_step
from tests.factories import company, write_feeds


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


def test_a_model_the_data_is_too_short_for_is_skipped_with_one_line_saying_how_to_train_it(tmp_path, home, capsys):
    from talentloop.cli.demo_skips import cannot_train

    run_step(app, ["ingest", str(write_feeds(tmp_path / "in", company()))])
    capsys.readouterr()
    assert cannot_train("train course-ranker", 24)
    err = " ".join(capsys.readouterr().err.split())
    assert "course ranker not trained" in err and "needs 11" in err and "run the demo with --months" in err
    assert "other models are trained and served" in err
    assert not cannot_train("train potential", 24)


def test_a_forecaster_whose_backtest_windows_are_too_short_is_skipped_with_the_horizons_that_fit(capsys):
    from talentloop.cli.demo_skips import too_short

    failed = "error: horizon 9 has 0 training rows; series need at least min_history=3 + 9 months (the data spans 6 months)"
    assert too_short("train skill-demand", failed)
    err = " ".join(capsys.readouterr().err.split())
    assert "skill-demand forecaster not trained" in err and "--horizons 1-3" in err
    assert not too_short("train skill-demand", "error: something else")
    assert not too_short("train attrition", failed)
    assert too_short("train potential", "error: too little history for a backtest: the high-potential model needs ...")
    assert "high-potential model not trained" in capsys.readouterr().err
