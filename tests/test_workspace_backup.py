"""A workspace backed up and restored elsewhere (or copied by hand) is its own: training in the copy writes
only inside the copy, serving reads the copy's artifacts, and the original is untouched."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from features.settings import Settings
from tests.conftest import private_copy

ROOT = Path(__file__).resolve().parents[1]


def _tree(home: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in home.rglob("*") if p.is_file() and p.name not in (".lock",)}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TALENTLOOP_HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "talentloop", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)


def test_backup_restore_train_and_serve_in_the_copy_leave_the_original_untouched(tmp_path, trained_workspace):
    original = private_copy(trained_workspace, tmp_path / "original")
    done = _cli(original.home, "backup", str(tmp_path / "backup.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert _cli(original.home, "backup", str(tmp_path / "backup.tar.gz")).returncode == 2  # never overwrites
    copy = Settings(home=tmp_path / "copy")
    done = _cli(copy.home, "restore", str(tmp_path / "backup.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert "paths rewritten" in " ".join(done.stderr.split())
    before = _tree(original.home)

    from training_jobs import attrition

    attrition.run(copy, n_folds=2, model_params={"n_estimators": 20})
    assert _tree(original.home) == before  # not one byte of the original changed
    with sqlite3.connect(copy.home / "mlflow.db") as con:
        locations = [r[0] for r in con.execute("SELECT artifact_uri FROM runs")]
        locations += [r[0] for r in con.execute("SELECT storage_location FROM model_versions")]
    assert locations and all(str(copy.home.resolve()) in loc for loc in locations), locations

    os.rename(original.home, tmp_path / "gone")  # the copy must not need the original to serve
    try:
        from serving.app import create_app

        with TestClient(create_app(copy), raise_server_exceptions=False) as client:
            ready = client.get("/readyz").json()
            assert "model attrition" not in ready["missing"], ready
            assert ready["stores"]["feature_store"] == "ok", ready
    finally:
        os.rename(tmp_path / "gone", original.home)
    assert _cli(copy.home, "restore", str(tmp_path / "backup.tar.gz")).returncode == 2  # not into a used one
