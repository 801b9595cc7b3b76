"""The workspace as a whole: one lock for every command that writes, and the clean-up of what a killed run left.

:func:`lock` takes an exclusive ``flock`` on ``<home>/.lock`` (the kernel lets go when the process dies, so a
killed run never leaves a lock behind) and writes the holder's pid, command and start time into the file, so
the next run can say who holds the workspace. The lock is re-entrant within a process (``talentloop demo`` and
``retrain`` run ingest, features and training in one process). Whoever gets the lock knows no other run is
writing, so it removes the leftovers of killed runs (``.staging-*`` folders, ``*.tmp`` files, DuckDB spill
folders, half-written pointer files) before it starts.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = ".lock"
INHERITED = "TALENTLOOP_LOCK_HELD_BY"  # a parent holding the lock lets the child it waits for write (the demo)
_held: dict[Path, list] = {}  # home -> [file object, depth]
_guard = threading.Lock()


class WorkspaceBusy(RuntimeError):
    """Another run holds the workspace lock."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another run holds the workspace"
    return (f"another run holds the workspace since {info.get('since', '?')} (pid {info.get('pid', '?')}, "
            f"`talentloop {info.get('command', '?')}`)")


@contextmanager
def lock(home: Path, command: str) -> Iterator[dict[str, int]]:
    """Hold the workspace of ``home`` for ``command``; raises :class:`WorkspaceBusy` when another process holds
    it. Yields the leftovers cleaned at start (by kind; empty when re-entered)."""
    home = Path(home)
    make_private_dir(home)
    key = home.resolve()
    with _guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
    if entry is not None:
        try:
            yield {}
        finally:
            with _guard:
                entry[1] -= 1
        return
    path = home / LOCK_NAME
    if _inherited(path):
        yield {}
        return
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until the block ends
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise WorkspaceBusy(f"{_holder(path)}; wait for it to finish (workspace {home})") from None
    try:
        os.chmod(path, 0o600)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "command": command,
                             "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        fh.flush()
        with _guard:
            _held[key] = [fh, 1]
        cleaned = clean_leftovers(home)
        if recorded_home(home) is None:
            _record_home(home)
        yield cleaned
    finally:
        with _guard:
            _held.pop(key, None)
        try:
            fh.seek(0)
            fh.truncate()
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def _inherited(path: Path) -> bool:
    """True when this process's parent holds the lock and said so (``TALENTLOOP_LOCK_HELD_BY``): the demo runs
    one training in a child process while it holds the workspace and waits for that child."""
    parent = os.environ.get(INHERITED)
    if not parent or parent != str(os.getppid()):
        return False
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return False
    return str(info.get("pid")) == parent


def holds(home: Path) -> bool:
    """True when this process holds the lock of ``home``."""
    return Path(home).resolve() in _held


def clean_leftovers(home: Path) -> dict[str, int]:
    """Remove what killed runs left under ``home``: ``.staging-*`` folders, ``*.tmp`` files, ``.duckdb-spill-*``
    folders and ``.CURRENT.*`` pointer drafts. Only safe while holding :func:`lock`."""
    counts: dict[str, int] = {}
    if not home.exists():
        return counts
    for root, dirs, files in os.walk(home):
        for d in list(dirs):
            if d.startswith(".staging-") or d.startswith(".duckdb-spill-"):
                shutil.rmtree(Path(root) / d, ignore_errors=True)
                dirs.remove(d)
                kind = "staging folders" if d.startswith(".staging-") else "spill folders"
                counts[kind] = counts.get(kind, 0) + 1
        for f in files:
            if f.endswith(".tmp") or f.startswith(".CURRENT."):
                (Path(root) / f).unlink(missing_ok=True)
                counts["temporary files"] = counts.get("temporary files", 0) + 1
    return counts


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only (0700)."""
    path = Path(path)
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with suppress(OSError):
        os.chmod(path, 0o700)
    return path


def make_private_file(path: Path) -> None:
    """Make a database file (and its WAL / shared-memory files) readable by the owner only (0600)."""
    for p in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if p.exists():
                os.chmod(p, 0o600)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------- moving a workspace
MARKER = ".workspace.json"  # the absolute path the workspace was last used at
_MLFLOW_PATHS = (("experiments", "artifact_location"), ("runs", "artifact_uri"),
                 ("logged_models", "artifact_location"), ("model_versions", "storage_location"),
                 ("model_versions", "source"))


def recorded_home(home: Path) -> Path | None:
    try:
        return Path(json.loads((Path(home) / MARKER).read_text(encoding="utf-8"))["home"])
    except (OSError, ValueError, KeyError):
        return None


def _record_home(home: Path) -> None:
    tmp = Path(home) / f"{MARKER}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"home": str(Path(home).resolve())}), encoding="utf-8")
    os.replace(tmp, Path(home) / MARKER)


def _moved_from(home: Path) -> set[Path]:
    """Where this workspace's stored paths say it was: the recorded home, and the folder above ``mlartifacts``
    in MLflow's experiment locations (a copy made without TalentLoop carries the original's)."""
    import sqlite3
    from urllib.parse import unquote, urlparse

    olds = set()
    marker = recorded_home(home)
    if marker is not None and marker != home:
        olds.add(marker)
    db = home / "mlflow.db"
    if db.is_file():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT artifact_location FROM experiments").fetchall()
        except sqlite3.Error:
            rows = []
        finally:
            con.close()
        for (location,) in rows:
            path = unquote(urlparse(location).path) if str(location).startswith("file:") else str(location)
            if "/mlartifacts" in path:
                prefix = Path(path.split("/mlartifacts")[0])
                if prefix != home:
                    olds.add(prefix)
    return olds


def relocate(settings) -> dict[str, int]:  # noqa: ANN001 - features.settings.Settings (imported lazily)
    """Make a copied, restored or moved workspace its own: MLflow and Feast store absolute paths (artifact
    locations, feature-file sources); when they point to another place (the workspace was copied or moved),
    every path under that place is rewritten to this one, so serving reads and training writes inside this
    copy, never the original. Returns what was rewritten (empty when the workspace has not moved)."""
    import sqlite3

    home = Path(settings.home).resolve()
    if not home.exists():
        return {}
    if not _moved_from(home):
        if recorded_home(home) is None:
            _record_home(home)
        return {}
    with open(home / ".relocate.lock", "a") as guard:  # two workers starting together relocate once
        fcntl.flock(guard, fcntl.LOCK_EX)
        olds = _moved_from(home)
        if not olds:
            return {}
        done: dict[str, int] = {}
        db = home / "mlflow.db"
        if db.is_file():
            con = sqlite3.connect(db)
            try:
                with con:
                    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                    for old in olds:
                        for table, column in _MLFLOW_PATHS:
                            if table not in tables:
                                continue
                            cur = con.execute(
                                f"UPDATE {table} SET {column} = replace({column}, ?, ?) WHERE {column} LIKE ?",
                                (f"{old}/", f"{home}/", f"%{old}/%"))
                            key = f"mlflow {table}.{column}"
                            done[key] = done.get(key, 0) + cur.rowcount
            finally:
                con.close()
        for mlmodel in (home / "mlartifacts").rglob("MLmodel") if (home / "mlartifacts").exists() else ():
            text = mlmodel.read_text(encoding="utf-8")
            new = text
            for old in olds:
                new = new.replace(f"{old}/", f"{home}/")
            if new != text:
                mlmodel.write_text(new, encoding="utf-8")
                done["MLmodel files"] = done.get("MLmodel files", 0) + 1
        if (Path(settings.feast_dir) / "registry.db").is_file():
            from features.store import apply

            apply(settings)  # registers the feature-file sources at their new place
            done["feast registry"] = 1
        _record_home(home)
        return {k: v for k, v in done.items() if v}


# ---------------------------------------------------------------------------------------------- backup / restore
_SKIP = (LOCK_NAME, ".relocate.lock")


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _copy_tree(src: Path, dest: Path) -> int:
    """Copy a workspace file by file; SQLite databases through SQLite's online backup (consistent while a
    server writes them), without their -wal / -shm files. Returns the number of files."""
    import sqlite3

    n = 0
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith((".staging-", ".duckdb-spill-"))]
        rel = Path(root).relative_to(src)
        make_private_dir(dest / rel)
        for f in files:
            if f in _SKIP or f.endswith((".tmp", "-wal", "-shm", "-journal")):
                continue
            source, target = Path(root) / f, dest / rel / f
            if _is_sqlite(source):
                with sqlite3.connect(source, timeout=60) as a, sqlite3.connect(target) as b:
                    a.backup(b)
                a.close()
                b.close()
                os.chmod(target, 0o600)
            else:
                shutil.copy2(source, target)
            n += 1
    return n


def backup(settings, out: Path) -> int:  # noqa: ANN001 - Settings
    """Copy the workspace to ``out`` (a new folder, or a ``.tar.gz`` file); returns the number of files.
    Hold :func:`lock` while calling it, so no writing command changes the workspace mid-copy."""
    import tarfile
    import tempfile

    home, out = Path(settings.home), Path(out)
    if not home.is_dir():
        raise FileNotFoundError(f"no workspace at {home}")
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new place")
    if out.resolve().is_relative_to(home.resolve()):
        raise ValueError(f"{out} is inside the workspace {home}; choose a place outside it")
    if not out.name.endswith(".tar.gz"):
        return _copy_tree(home, out)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        n = _copy_tree(home, Path(tmp) / "workspace")
        partial = out.with_name(f".{out.name}.tmp")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(Path(tmp) / "workspace", arcname="workspace")
        os.chmod(partial, 0o600)
        os.replace(partial, out)
    return n


def restore(settings, src: Path) -> dict[str, int]:  # noqa: ANN001 - Settings
    """Fill an empty workspace from a backup (folder or ``.tar.gz``), then make it its own
    (:func:`relocate`). Returns what was rewritten and the number of files."""
    import tarfile
    import tempfile

    home, src = Path(settings.home), Path(src)
    if not src.exists():
        raise FileNotFoundError(f"no backup at {src}")
    if home.exists() and any(p.name not in (*_SKIP, MARKER) for p in home.iterdir()):
        raise FileExistsError(f"the workspace {home} is not empty; restore into a new TALENTLOOP_HOME")
    if src.is_dir():
        n = _copy_tree(src, home)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(src, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
            n = _copy_tree(Path(tmp) / "workspace", home)
    return {"files": n, **relocate(settings)}
