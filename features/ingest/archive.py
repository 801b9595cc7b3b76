"""Finding the input files, hashing them, and keeping a copy of them as received (audit and erasure)."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from features.contract import FILE_FORMATS, tables_of
from features.ingest.errors import FeedError
from features.ingest.mapping import Mapping

FORMAT_VERSION = "ingest-3"  # part of the input hash: bump when the ingest logic changes what it writes
RAW_MAPPING_NAME = "mapping.yaml"


def locate_feed(source: Path, feed: str, mapping: Mapping) -> tuple[dict[str, Path], list[str]]:
    """The file of every table of a delivered feed, and the tables with no file (not delivered: they keep their
    previous clean state; an optional table's absence is not listed). An ambiguous file, or a file the mapping names that is not there, fails the feed."""
    folder = source / feed
    found: dict[str, Path] = {}
    absent: list[str] = []
    for t in tables_of(feed):
        declared = mapping.for_table(t.name).file
        if declared is not None:
            path = folder / declared
            if not path.is_file():
                raise FeedError(feed, f"{feed}/{declared}", f"the mapping names this file for table {t.name!r} "
                                "but it is not there")
            found[t.name] = path
            continue
        options = [folder / f"{t.name}.{ext}" for ext in FILE_FORMATS if (folder / f"{t.name}.{ext}").is_file()]
        if not options:
            if not t.optional:  # an optional table (learning_plans): a feed is complete without it
                absent.append(t.name)
            continue
        if len(options) > 1:
            raise FeedError(feed, ", ".join(f"{feed}/{p.name}" for p in options),
                            f"table {t.name!r} is delivered in several files; keep one")
        found[t.name] = options[0]
    return found, absent


def content_hash(source: Path, files: list[Path], mapping_path: Path | None) -> str:
    """SHA-256 over the ingest logic version, every input file (path and bytes) and the mapping file."""
    h = hashlib.sha256(FORMAT_VERSION.encode())
    for path in sorted(files):
        h.update(str(path.relative_to(source)).encode("utf-8") + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    h.update(b"\0mapping\0")
    if mapping_path is not None:
        h.update(mapping_path.read_bytes())
    return h.hexdigest()


def copy_raw(raw_dir: Path, source: Path, files: list[Path], mapping_path: Path | None, stamp: str,
             digest: str) -> Path:
    """Copy the inputs as received to ``raw_dir/<stamp>-<hash>/`` (reused when the same inputs were copied)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    short = digest[:12]
    existing = sorted(raw_dir.glob(f"*-{short}"))
    if existing:
        return existing[-1]
    final = raw_dir / f"{stamp}-{short}"
    staging = raw_dir / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        for path in files:
            target = staging / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        if mapping_path is not None:
            shutil.copy2(mapping_path, staging / RAW_MAPPING_NAME)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final
