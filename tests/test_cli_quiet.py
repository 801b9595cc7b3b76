"""A command run as a person runs it prints nothing that concerns other libraries' maintainers."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import private_copy


def _talentloop(args: list[str], home) -> subprocess.CompletedProcess:
    env = {**os.environ, "TALENTLOOP_HOME": str(home), "OMP_NUM_THREADS": "1"}
    env.pop("MLFLOW_LOGGING_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "talentloop", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_training_prints_no_third_party_warning_and_verbose_shows_them(feature_workspace, tmp_path):
    ws = private_copy(feature_workspace, tmp_path / "ws")
    quiet = _talentloop(["train", "attrition"], ws.home)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    noisy = [line for line in quiet.stderr.splitlines() if "Warning" in line or " INFO " in line]
    assert noisy == []
    loud = _talentloop(["--verbose", "features", "apply"], ws.home)
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert "Warning" in loud.stderr  # feast's experimental on-demand view notice: the filter is what hid it
