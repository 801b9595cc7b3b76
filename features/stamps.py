"""Stamps of the steps a workspace has done, so a repeated pipeline redoes only what changed.

A step's *digest* hashes everything its result depends on: the data it reads (the published clean version, the
feature files' sizes and modification times), its options, and the source code of the packages that compute
it (with ``uv.lock``, so a library upgrade counts as a change). After a step succeeds, its digest is written to
``<workspace>/stamps.json``; the next run skips the step when the digest is the same and its outputs are still
there. Nothing here imports a heavy library: a run where every step is unchanged starts no feast, mlflow or
lightgbm.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

STAMPS_FILE = "stamps.json"
PROJECT = Path(__file__).resolve().parents[1]


def digest(*parts: object) -> str:
    """A short, stable hash of JSON-able ``parts`` (paths and other objects as their text)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=32)
def code_digest(packages: tuple[str, ...]) -> str:
    """The hash of every ``*.py`` file of ``packages`` (folders of the project) and of ``uv.lock``."""
    h = hashlib.sha256()
    files: list[Path] = []
    for package in packages:
        files.extend(sorted((PROJECT / package).rglob("*.py")))
    lock = PROJECT / "uv.lock"
    for path in [*files, *([lock] if lock.exists() else [])]:
        h.update(str(path.relative_to(PROJECT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def files_fingerprint(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(name, size, modification time in ns) of each path; a missing file is (name, -1, -1)."""
    out = []
    for p in sorted(Path(x) for x in paths):
        try:
            st = os.stat(p)
            out.append((p.name, st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append((p.name, -1, -1))
    return out


class Stamps:
    """The stamps file of one workspace: ``{step: {"digest": ..., "at": ISO time}}``."""

    def __init__(self, home: Path):
        self.path = Path(home) / STAMPS_FILE
        try:
            self.data: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):  # none yet, or unreadable: every step runs
            self.data = {}

    def fresh(self, step: str, key: str) -> bool:
        """Whether ``step`` last succeeded on inputs with digest ``key``."""
        return self.data.get(step, {}).get("digest") == key

    def record(self, step: str, key: str) -> None:
        """``step`` succeeded on inputs with digest ``key`` (written at once, atomically)."""
        self.data[step] = {"digest": key, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._write()

    def forget(self, step: str) -> None:
        """``step`` must run next time (it failed, or its inputs are being replaced)."""
        if self.data.pop(step, None) is not None:
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
