"""The workspace lock a parent hands to the child it waits for (the demo's parallel training)."""

from __future__ import annotations

import os
import subprocess
import sys

from features.workspace import INHERITED, lock

CHILD = """
import sys
from pathlib import Path
from features.workspace import WorkspaceBusy, lock
try:
    with lock(Path(sys.argv[1]), "child"):
        print("got it")
except WorkspaceBusy as exc:
    print("busy:", exc)
"""


def _child(home, env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != INHERITED}
    return subprocess.run([sys.executable, "-c", CHILD, str(home)], env={**env, **env_extra}, capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


def test_a_child_writes_only_when_its_parent_holds_the_lock_and_says_so(tmp_path):
    with lock(tmp_path, "demo"):
        assert _child(tmp_path, {}).startswith("busy: another run holds the workspace")
        assert _child(tmp_path, {INHERITED: str(os.getpid())}) == "got it"
        assert _child(tmp_path, {INHERITED: "1"}).startswith("busy:")  # not its parent: no inheritance
    assert _child(tmp_path, {INHERITED: str(os.getpid())}) == "got it"  # released: it takes the lock itself
