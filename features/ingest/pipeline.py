"""``ingest(source, settings, mapping)``: the four feeds in, clean tables, quarantine and a report out.

Read top to bottom: choose the mapping → find the delivered feeds' files → skip when the same inputs were
already ingested → keep a raw copy → phase 1 per table (read, map, drift, parse, row checks) → phase 2 in
reference order (aliases, duplicates, references) → stage the quarantine → publish the clean tables in one
atomic switch → move the quarantine into place → save the report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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


def ingest(source: Path, settings: Settings, mapping: Path | None = None) -> IngestReport:
    """Validate, normalise, de-duplicate and quarantine the feeds under ``source``; publish what is clean.

    A feed folder that is absent keeps its tables' previous clean state. A feed that cannot be read or has
    drifted from the contract is reported in ``failed_feeds`` and nothing is written for it; the other feeds
    proceed. Ingesting the same inputs (and mapping) again changes nothing.
    """
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"ingest source {source} is not a folder")
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

    used = str(mapping_path) if mapping_path else "none (contract names, ISO dates)"
    report = IngestReport(source=str(source.resolve()), mapping=used, input_hash=digest,
                          started_at=started.isoformat(), not_delivered=[f for f in FEEDS if f not in delivered],
                          missing_tables=missing)
    latest = load_latest(settings.reports_dir)
    if latest and latest.get("input_hash") == digest and latest.get("clean_version") == _current_name(settings):
        # same inputs, same mapping, same ingest logic (FORMAT_VERSION is hashed), store untouched since
        same = IngestReport.from_dict(latest)
        same.unchanged, same.started_at, same.source = True, report.started_at, report.source
        save_report(same, settings.reports_dir, stamp)
        return same

    report.raw_copy = str(copy_raw(settings.raw_dir, source, every_file, mapping_path, stamp, digest))
    staged = _phase_one(source, m, files, failed)
    aliases = {"courses.course_id": m.aliases.courses, "skills.skill_id": m.aliases.skills}
    check_references(staged, lambda t: read_clean(settings, t), aliases)

    report.tables = {name: _table_report(st) for name, st in staged.items()}
    staged_files: dict[str, Path] = {}
    try:
        for name, st in staged.items():
            staged_files[name] = stage_quarantine(settings.quarantine_dir, name, build_quarantine(st))
        clean = {}
        for name in list(staged):  # hand over the accepted rows, letting go of everything else per table
            st = staged.pop(name)
            clean[name] = st.typed.loc[st.status.accepted]
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


def _phase_one(source: Path, m: Mapping, files: dict[str, dict[str, Path]],
               failed: dict[str, str]) -> dict[str, StagedTable]:
    """Stage every table of every readable feed; a feed with any drifted table is dropped whole."""
    staged: dict[str, StagedTable] = {}
    alias_rows = {RESOLVABLE[target].alias_table: rows for target, rows in
                  (("courses.course_id", m.aliases.courses), ("skills.skill_id", m.aliases.skills))}
    for feed, paths in files.items():
        try:
            feed_tables = {t.name: stage_table(t, paths[t.name], source, m, alias_rows.get(t.name))
                           for t in progress.track(tables_of(feed), f"ingest: {feed} tables") if t.name in paths}
        except FeedError as e:
            failed[feed] = str(e)
            continue
        staged.update(feed_tables)
    return {name: staged[name] for name in CONTRACT if name in staged}


def _table_report(st: StagedTable) -> TableReport:
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
        unknown_codes=st.unknown_codes)


def _current_name(settings: Settings) -> str | None:
    current = current_version_dir(settings)
    return current.name if current else None
