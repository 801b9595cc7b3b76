"""What an ingest did, per table and per feed: counts that add up, reasons, failures, and where it is saved."""

from __future__ import annotations

import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

LATEST = "ingest-latest.json"


@dataclass
class TableReport:
    """One table: ``rows_in = accepted + quarantined + duplicates`` (blank rows are not rows)."""

    table: str
    feed: str
    source_file: str
    rows_in: int
    accepted: int
    quarantined: int
    duplicates: int
    reasons: dict[str, int] = field(default_factory=dict)
    blank_rows: int = 0
    extra_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)
    derived_columns: list[str] = field(default_factory=list)
    unknown_codes: dict[str, int] = field(default_factory=dict)  # column → codes mapped by unknown_values
    kept_previous: int = 0  # previous accepted rows kept for keys whose new rows clash (duplicate_key)
    previous_rows: int | None = None  # rows of the table in the previous clean version (None: none)

    def __post_init__(self) -> None:
        if self.rows_in != self.accepted + self.quarantined + self.duplicates:
            raise AssertionError(f"{self.table}: rows_in {self.rows_in} != accepted {self.accepted} + "
                                 f"quarantined {self.quarantined} + duplicates {self.duplicates}")
        if sum(self.reasons.values()) != self.quarantined:
            raise AssertionError(f"{self.table}: reasons {self.reasons} do not add up to {self.quarantined}")


@dataclass
class IngestReport:
    """The outcome of one ``ingest``; ``ok`` is False when any delivered feed failed."""

    source: str
    mapping: str
    input_hash: str
    started_at: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    failed_feeds: dict[str, str] = field(default_factory=dict)
    not_delivered: list[str] = field(default_factory=list)
    missing_tables: dict[str, str] = field(default_factory=dict)  # table → warning; previous clean state kept
    allowed_shrink: list[str] = field(default_factory=list)
    cleaned_leftovers: dict[str, int] = field(default_factory=dict)  # what killed runs had left, removed
    raw_copy: str | None = None
    clean_version: str | None = None
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed_feeds

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        d["totals"] = {k: sum(getattr(t, k) for t in self.tables.values())
                       for k in ("rows_in", "accepted", "quarantined", "duplicates")}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IngestReport:
        fields = {k: v for k, v in d.items() if k not in ("ok", "totals", "tables")}
        return cls(**fields, tables={k: TableReport(**v) for k, v in d.get("tables", {}).items()})


def save_report(report: IngestReport, reports_dir: Path, stamp: str) -> Path:
    """Write ``ingest-<stamp>.json`` and replace ``ingest-latest.json`` atomically; returns the first."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    body = orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2)
    path = reports_dir / f"ingest-{stamp}.json"
    for target in (path, reports_dir / LATEST):
        tmp = reports_dir / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_bytes(body)
        os.replace(tmp, target)
    return path


def load_latest(reports_dir: Path) -> dict[str, Any] | None:
    """The last saved report as a plain dict (reports of older versions need not fit :class:`IngestReport`),
    or None before the first ingest."""
    path = reports_dir / LATEST
    if not path.exists():
        return None
    return orjson.loads(path.read_bytes())
