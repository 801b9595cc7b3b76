"""``talentloop train skill-demand``: options are checked with one-line errors naming them, daily / weekly
series are aggregated to months as stated, and the summary table marks the best method per horizon."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from talentloop.cli import _common, app


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path / "home"))
    _common.settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["train", "skill-demand", *map(str, args)])
    _common.settings.cache_clear()


@pytest.mark.parametrize(("args", "option"), [
    (["--fill", "bogus"], "--fill"),
    (["--horizons", "0-3"], "--horizons"),
    (["--horizons", "one"], "--horizons"),
    (["--windows", "1"], "--windows"),
    (["--freq", "hourly"], "--freq"),
    (["--agg", "median"], "--agg"),
    (["--exog", "open_reqs"], "--exog"),  # without --series
    (["--series", "no-such-file.csv"], "--series"),
])
def test_bad_options_get_one_line_naming_them(run, args, option):
    result = run(*args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in result.output


def test_a_file_without_the_exog_column_is_refused_naming_it(run, tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"series_id": ["a"] * 3, "month": ["2024-01-01", "2024-02-01", "2024-03-01"],
                  "value": [1, 2, 3]}).to_csv(path, index=False)
    result = run("--series", path, "--exog", "open_reqs")
    assert result.exit_code == 2 and "open_reqs" in result.stderr and "Traceback" not in result.output


def test_daily_rows_become_monthly_means_or_sums():
    from training_jobs.skill_demand import to_monthly

    days = pd.date_range("2024-01-01", "2024-02-29", freq="D")
    daily = pd.DataFrame({"series_id": "a", "day": days.strftime("%Y-%m-%d"), "value": range(len(days)),
                          "reqs": 1.0, "skill": "x"})
    mean = to_monthly(daily.copy(), "series_id", "day", "value", ("reqs",), ("skill",), "mean", "d.csv")
    assert list(mean["day"]) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert list(mean["value"]) == [15.0, 31 + 14.0] and list(mean["skill"]) == ["x", "x"]
    total = to_monthly(daily.copy(), "series_id", "day", "value", ("reqs",), (), "sum", "d.csv")
    assert list(total["value"]) == [sum(range(31)), sum(range(31, 60))] and list(total["reqs"]) == [31.0, 29.0]
    bad = daily.astype({"value": object})
    bad.loc[3, "value"] = "twelve"
    with pytest.raises(ValueError, match=r"row 5: value 'twelve' is not a number"):
        to_monthly(bad, "series_id", "day", "value", (), (), "mean", "d.csv")


def test_summary_table_has_every_metric_per_horizon_and_marks_the_best(capsys, monkeypatch):
    from talentloop.cli.train_skill_demand import print_table

    rows = [{"model": m, "horizon": h, "mase": mase, "smape": 10 * mase, "wape": mase / 10, "coverage_80": cov}
            for h in (1, 3) for m, mase, cov in (("served", 0.8, 0.81), ("lightgbm", 0.9, 0.7),
                                                 ("naive", 1.0, float("nan")), ("auto_ets", 0.85, 0.9))]
    result = {"table": rows, "methods": {1: "ensemble:auto_ets+lightgbm", 3: "auto_ets"}, "version": "2",
              "series": 12, "months": 54, "n_report": 4, "n_windows": 8,
              "targets": {"mase_h3_at_most_best_baseline": True}}
    from rich.console import Console

    from talentloop.cli import train_skill_demand as cmd

    monkeypatch.setattr(cmd, "console", Console(stderr=False, width=200))
    print_table(result)
    out = capsys.readouterr().out
    for word in ("MASE", "sMAPE", "WAPE", "80% cov", "served (auto_ets)", "served (ensemble:auto_ets+lightgbm)",
                 "0.800 *", "mase_h3_at_most_best_baseline: met"):
        assert word in out
    assert "nan" not in out and "n/a" not in out
