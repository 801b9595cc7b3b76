"""``ingest(source, settings, mapping)``: the four feeds in, clean tables, quarantine and a report out.

Read top to bottom: choose the mapping → find the delivered feeds' files → skip when the same inputs were
already ingested → keep a raw copy → phase 1 per table (read, map, drift, parse, row checks) → phase 2 in
reference order (aliases, duplicates, references) → stage the quarantine → publish the clean tables in one
atomic switch → move the quarantine into place → save the report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from features import progress
from features.contract import CONTRACT, FEEDS, FILE_FORMATS, tables_of
from features.ingest.archive import content_hash, copy_raw, locate_feed
from features.ingest.errors import FeedError
from features.ingest.mapping import Mapping, choose_mapping, load_mapping
from features.ingest.quarantine import build_quarantine, commit_quarantine, discard_staged, stage_quarantine
from features.ingest.references import RESOLVABLE, check_references
from features.ingest.report import IngestReport, TableReport, load_latest, save_report
from features.ingest.stage import StagedTable, stage_table
from features.ingest.validate import DUPLICATE
from features.offline import current_version_dir, publish_clean, read_clean
from features.settings import Settings
from features.workspace import lock


def ingest(source: Path, settings: Settings, mapping: Path | None = None,
           allow_shrink: Iterable[str] = ()) -> IngestReport:
    """Validate, normalise, de-duplicate and quarantine the feeds under ``source``; publish what is clean.

    A feed folder that is absent keeps its tables' previous clean state. A feed that cannot be read or has
    drifted from the contract is reported in ``failed_feeds`` and nothing is written for it; the other feeds
    proceed. Ingesting the same inputs (and mapping) again changes nothing.

    A delivered table that would lose more than ``settings.max_shrink`` of the previous clean version's rows
    (a header-only file, a truncated export) fails its feed, unless the table is in ``allow_shrink``. The
    whole ingest holds the workspace lock (:func:`features.workspace.lock`).
    """
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"ingest source {source} is not a folder")
    unknown = sorted(set(allow_shrink) - set(CONTRACT))
    if unknown:
        raise ValueError(f"--allow-shrink names no contract table: {', '.join(unknown)}; tables are "
                         f"{', '.join(CONTRACT)}")
    with lock(settings.home, "ingest") as cleaned:
        report = _ingest(source, settings, mapping, frozenset(allow_shrink))
        report.cleaned_leftovers = cleaned
        return report


def _ingest(source: Path, settings: Settings, mapping: Path | None, allow_shrink: frozenset[str]) -> IngestReport:
    started = pd.Timestamp.now(tz="UTC")
    stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
    mapping_path = choose_mapping(source, mapping)
    m = load_mapping(mapping_path) if mapping_path else Mapping()

    delivered = [f for f in FEEDS if (source / f).is_dir()]
    failed: dict[str, str] = {}
    files: dict[str, dict[str, Path]] = {}
    missing: dict[str, str] = {}
    for feed in delivered:
        try:
            files[feed], absent = locate_feed(source, feed, m)
        except FeedError as e:
            failed[feed] = str(e)
            continue
        for table in absent:
            missing[table] = (f"{feed}/{table}.<{'|'.join(FILE_FORMATS)}> is not in the delivered feed: table "
                              f"{table!r} is treated as not delivered (its previous clean state is kept)")
    every_file = [p for fs in files.values() for p in fs.values()]
    digest = content_hash(source, every_file, mapping_path)
    if allow_shrink or settings.max_shrink != 0.5:  # the guard's options change the outcome: part of the inputs
        options = f"{digest}\0{settings.max_shrink}\0{','.join(sorted(allow_shrink))}"
        digest = hashlib.sha256(options.encode()).hexdigest()

    used = str(mapping_path) if mapping_path else "none (contract names, ISO dates)"
    report = IngestReport(source=str(source.resolve()), mapping=used, input_hash=digest,
                          started_at=started.isoformat(), not_delivered=[f for f in FEEDS if f not in delivered],
                          missing_tables=missing, allowed_shrink=sorted(allow_shrink))
    latest = load_latest(settings.reports_dir)
    if latest and latest.get("input_hash") == digest and latest.get("clean_version") == _current_name(settings):
        # same inputs, same mapping, same ingest logic (FORMAT_VERSION is hashed), store untouched since
        same = IngestReport.from_dict(latest)
        same.unchanged, same.started_at, same.source = True, report.started_at, report.source
        save_report(same, settings.reports_dir, stamp)
        return same

    report.raw_copy = str(copy_raw(settings.raw_dir, source, every_file, mapping_path, stamp, digest))
    limit = started + pd.Timedelta(days=settings.future_tolerance_days)
    staged = _phase_one(source, m, files, failed, limit)
    aliases = {"courses.course_id": m.aliases.courses, "skills.skill_id": m.aliases.skills}
    previous_rows = _previous_rows(settings)
    phase_one = {name: (st.status.code.copy(), st.status.column.copy()) for name, st in staged.items()}
    while True:  # phase 2; a feed failing the volume check leaves, and the others are checked again without it
        check_references(staged, lambda t: read_clean(settings, t), aliases)
        shrunk = _volume_failures(staged, previous_rows, settings.max_shrink, allow_shrink)
        if not shrunk:
            break
        for feed, message in shrunk.items():
            failed[feed] = message
            for name in [n for n, st in staged.items() if st.feed == feed]:
                del staged[name]
        for name, st in staged.items():
            st.status.code[:], st.status.column[:] = phase_one[name]
            st.kept_previous = st.kept_mask = None

    report.tables = {name: _table_report(st, previous_rows.get(name)) for name, st in staged.items()}
    staged_files: dict[str, Path] = {}
    try:
        for name, st in staged.items():
            staged_files[name] = stage_quarantine(settings.quarantine_dir, name, build_quarantine(st))
        clean = {}
        for name in list(staged):  # hand over the accepted rows, letting go of everything else per table
            st = staged.pop(name)
            clean[name] = st.accepted_rows()
            del st
        if clean:
            publish_clean(settings, clean)
        commit_quarantine(settings.quarantine_dir, staged_files)
    except BaseException:
        discard_staged(staged_files)
        raise
    report.failed_feeds = failed
    report.clean_version = _current_name(settings)
    save_report(report, settings.reports_dir, stamp)
    return report


def _previous_rows(settings: Settings) -> dict[str, int]:
    """Rows per table of the current clean version (from the Parquet footers)."""
    current = current_version_dir(settings)
    if current is None:
        return {}
    return {name: pq.ParquetFile(current / f"{name}.parquet").metadata.num_rows for name in CONTRACT
            if (current / f"{name}.parquet").exists()}


def _volume_failures(staged: dict[str, StagedTable], previous_rows: dict[str, int], max_shrink: float,
                     allow_shrink: frozenset[str]) -> dict[str, str]:
    """Feeds with a table that would lose more than ``max_shrink`` of its previous rows, with the reason."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, st in staged.items():
        before = previous_rows.get(name, 0)
        after = st.accepted_count()
        if before == 0 or name in allow_shrink or after >= before * (1 - max_shrink):
            continue
        what = "the file has no data rows" if st.file_rows == 0 else f"{after:,} rows accepted"
        out.setdefault(st.feed, []).append((name,
            f"table {name!r} would shrink from {before:,} to {after:,} rows ({what}; a drop of "
            f"{1 - after / before:.0%}, more than the {max_shrink:.0%} allowed)"))
    return {feed: "; ".join(text for _, text in parts) + ". Nothing was written for this feed; the previous clean "
            "tables are kept. If the drop is intended, ingest again with "
            + " ".join(f"--allow-shrink {name}" for name, _ in parts)
            for feed, parts in out.items()}


def _phase_one(source: Path, m: Mapping, files: dict[str, dict[str, Path]],
               failed: dict[str, str], limit: pd.Timestamp | None = None) -> dict[str, StagedTable]:
    """Stage every table of every readable feed; a feed with any drifted table is dropped whole."""
    staged: dict[str, StagedTable] = {}
    alias_rows = {RESOLVABLE[target].alias_table: rows for target, rows in
                  (("courses.course_id", m.aliases.courses), ("skills.skill_id", m.aliases.skills))}
    for feed, paths in files.items():
        try:
            feed_tables = {t.name: stage_table(t, paths[t.name], source, m, alias_rows.get(t.name), limit)
                           for t in progress.track(tables_of(feed), f"ingest: {feed} tables") if t.name in paths}
        except FeedError as e:
            failed[feed] = str(e)
            continue
        staged.update(feed_tables)
    return {name: staged[name] for name in CONTRACT if name in staged}


def _table_report(st: StagedTable, previous_rows: int | None = None) -> TableReport:
    status = st.status
    malformed = len(st.malformed)
    reasons = status.reason_counts()
    if malformed:
        reasons = {"malformed_row": malformed, **reasons}
    return TableReport(
        table=st.table.name, feed=st.feed, source_file=st.source_file,
        rows_in=len(status.code) + malformed, accepted=int(status.accepted.sum()),
        quarantined=int(status.quarantined.sum()) + malformed, duplicates=int((status.code == DUPLICATE).sum()),
        reasons=reasons, blank_rows=st.blank_rows, extra_columns=st.extra_columns,
        missing_optional_columns=st.missing_optional_columns, derived_columns=st.derived_columns,
        unknown_codes=st.unknown_codes, previous_rows=previous_rows,
        kept_previous=0 if st.kept_previous is None else len(st.kept_previous))


def _current_name(settings: Settings) -> str | None:
    current = current_version_dir(settings)
    return current.name if current else None
