"""Erasure of one person (right to be forgotten) from everything ingestion keeps: raw copies, clean tables and
the quarantine. Feature tables and the online store are erased by their own module.

A row is about the person when a person column (``employees.employee_id`` and every column referring to
it, e.g. ``hired_employee_id``) holds their id; such rows are removed, and rows referring to a removed row's
key are removed with it (a removed candidate's assessments). Where the person is only someone's manager or
reviewer the value is blanked. In the quarantine, a row is removed when any value of the raw row is the id.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import CONTRACT, FEEDS, FILE_FORMATS, Table, dependency_order, tables_of
from features.ingest.archive import RAW_MAPPING_NAME
from features.ingest.mapping import Mapping, load_mapping
from features.ingest.quarantine import commit_quarantine, stage_quarantine
from features.ingest.reader import RawTable, read_table_file
from features.settings import Settings

BLANKED_COLUMNS = ("manager_id", "reviewer_id")  # people named in someone else's row


def _person_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns
            if c.ref == "employees.employee_id" or (table.name == "employees" and c.name == "employee_id")]


def _removal_masks(frames: dict[str, pd.DataFrame], employee_id: str) -> dict[str, np.ndarray]:
    """Rows to remove per table (frames hold contract column names, values trimmed)."""
    removed_keys: dict[str, set[str]] = {}
    masks: dict[str, np.ndarray] = {}
    for table in dependency_order():
        df = frames.get(table.name)
        if df is None:
            continue
        drop = np.zeros(len(df), dtype=bool)
        for c in _person_columns(table):
            drop |= (df[c] == employee_id).to_numpy(dtype=bool, na_value=False)
        for c in table.columns:
            if c.ref and c.ref != "employees.employee_id" and c.ref in removed_keys:
                drop |= df[c.name].isin(removed_keys[c.ref]).to_numpy(dtype=bool)
        if len(table.key) == 1 and drop.any():
            removed_keys[f"{table.name}.{table.key[0]}"] = set(df.loc[drop, table.key[0]].dropna())
        masks[table.name] = drop
    return masks


def _blank_masks(df: pd.DataFrame, employee_id: str) -> dict[str, np.ndarray]:
    return {c: (df[c] == employee_id).to_numpy(dtype=bool, na_value=False) for c in BLANKED_COLUMNS if c in df}


def _erase_clean(settings: Settings, employee_id: str) -> tuple[int, int, int]:
    """Erase from every kept clean version (the current one and the older ones kept for safety), each table
    rewritten in place (temporary file + rename). Returns rows removed and values blanked in the current
    version, and rows removed from older versions."""
    from features.offline import conform, current_version_dir

    current = current_version_dir(settings)
    versions = sorted(p for p in settings.clean_dir.glob("v-*") if p.is_dir()) if settings.clean_dir.exists() else []
    rows = blanked = older = 0
    for version in versions:
        frames = {name: conform(CONTRACT[name], pd.read_parquet(version / f"{name}.parquet"))
                  for name in CONTRACT if (version / f"{name}.parquet").exists()}
        masks = _removal_masks(frames, employee_id)
        for name, df in frames.items():
            drop = masks[name]
            blanks = _blank_masks(df, employee_id)
            if not drop.any() and not any(b.any() for b in blanks.values()):
                continue
            out = df.copy()
            n_blank = 0
            for c, b in blanks.items():
                out.loc[b & ~drop, c] = pd.NA
                n_blank += int((b & ~drop).sum())
            path = version / f"{name}.parquet"
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
            out.loc[~drop].to_parquet(tmp, index=False)
            os.replace(tmp, path)
            if version == current:
                rows += int(drop.sum())
                blanked += n_blank
            else:
                older += int(drop.sum())
    return rows, blanked, older


def _erase_quarantine(settings: Settings, employee_id: str) -> int:
    pattern = r':"\s*' + re.escape(employee_id.replace("\\", "\\\\").replace('"', '\\"')) + r'\s*"'
    staged: dict[str, Path] = {}
    removed = 0
    for path in sorted(settings.quarantine_dir.glob("*.parquet")):
        q = pd.read_parquet(path)
        hit = q["raw"].str.contains(pattern, regex=True).to_numpy(dtype=bool, na_value=False)
        if hit.any():
            removed += int(hit.sum())
            staged[path.stem] = stage_quarantine(settings.quarantine_dir, path.stem, q.loc[~hit])
    commit_quarantine(settings.quarantine_dir, staged)
    return removed


def _raw_table_files(folder: Path, mapping: Mapping) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for feed in FEEDS:
        for t in tables_of(feed):
            declared = mapping.for_table(t.name).file
            names = [declared] if declared else [f"{t.name}.{ext}" for ext in FILE_FORMATS]
            for n in names:
                if (folder / feed / n).is_file():
                    found[t.name] = folder / feed / n
    return found


def _mentions(text: str, employee_id: str) -> bool:
    return employee_id in re.split(r"[,;\t\"\s]+", text)


def _rewrite(raw: RawTable, drop: np.ndarray, blanks: dict[str, np.ndarray], encoding: str,
             employee_id: str) -> int:
    """Write the file back in its own format without the removed rows (and malformed lines naming the person)
    and with the blanked values; returns the number of malformed lines removed."""
    path, suffix = raw.path, raw.path.suffix.lower()
    if suffix == ".parquet":  # keep the file's own types: expand the masks to every row of the file
        df = pd.read_parquet(path)
        full_drop = np.zeros(len(df), dtype=bool)
        full_drop[raw.lines - 1] = drop
        full_blanks = {}
        for c, b in blanks.items():
            full_blanks[c] = np.zeros(len(df), dtype=bool)
            full_blanks[c][raw.lines - 1] = b
        drop, blanks = full_drop, full_blanks
    else:
        df = raw.frame.copy()
    for c, b in blanks.items():
        df[c] = df[c].where(~b, None if suffix == ".parquet" else "")
    df = df.loc[~drop]
    kept = [text for _, text in raw.malformed if not _mentions(text, employee_id)]
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif suffix == ".xlsx":
            df.to_excel(tmp, index=False, engine="openpyxl")
        else:
            df.to_csv(tmp, index=False, encoding=encoding)
            if kept:
                with tmp.open("a", encoding=encoding, newline="") as f:
                    f.write("\n".join(kept) + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(raw.malformed) - len(kept)


def feed_folders(settings: Settings) -> list[Path]:
    """Feed folders inside the workspace other than the raw copies (e.g. the demo company's feeds)."""
    home = Path(settings.home)
    if not home.exists():
        return []
    return sorted(d for d in home.iterdir() if d.is_dir() and d != settings.raw_dir
                  and any((d / f).is_dir() for f in FEEDS))


def _erase_raw(settings: Settings, employee_id: str, folders: list[Path] | None = None) -> tuple[int, int]:
    rows = blanked = 0
    if folders is None:
        if not settings.raw_dir.exists():
            return 0, 0
        folders = sorted(p for p in settings.raw_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        mapping_file = folder / RAW_MAPPING_NAME
        mapping = load_mapping(mapping_file) if mapping_file.is_file() else Mapping()
        files = _raw_table_files(folder, mapping)
        raws = {name: read_table_file(path, mapping.encoding) for name, path in files.items()}
        frames, exports = {}, {}
        for name, raw in raws.items():
            renames = {k: v for k, v in mapping.for_table(name).columns.items() if k in raw.frame.columns}
            exports[name] = {v: k for k, v in renames.items()}
            frame = raw.frame.rename(columns=renames).apply(lambda s: s.str.strip())
            for c in CONTRACT[name].column_names:
                if c not in frame:
                    frame[c] = pd.Series(pd.NA, index=frame.index, dtype="string")
            frames[name] = frame
        masks = _removal_masks(frames, employee_id)
        for name, raw in raws.items():
            drop = masks[name]
            blanks = {exports[name].get(c, c): b & ~drop for c, b in _blank_masks(frames[name], employee_id).items()
                      if exports[name].get(c, c) in raw.frame.columns}
            bad_lines = any(_mentions(t, employee_id) for _, t in raw.malformed)
            if drop.any() or any(b.any() for b in blanks.values()) or bad_lines:
                rows += int(drop.sum()) + _rewrite(raw, drop, blanks, mapping.encoding, employee_id)
                blanked += sum(int(b.sum()) for b in blanks.values())
    return rows, blanked


def erase_employee(settings: Settings, employee_id: str) -> dict[str, int]:
    """Remove one person from raw copies, clean tables and quarantine; counts of rows removed and values blanked."""
    employee_id = employee_id.strip()
    if not employee_id:
        raise ValueError("erase_employee: employee_id is empty")
    raw_rows, raw_blanked = _erase_raw(settings, employee_id)
    feed_rows, feed_blanked = _erase_raw(settings, employee_id, feed_folders(settings))
    clean_rows, clean_blanked, older_rows = _erase_clean(settings, employee_id)
    quarantine_rows = _erase_quarantine(settings, employee_id)
    return {"raw_rows": raw_rows, "raw_values_blanked": raw_blanked, "clean_rows": clean_rows,
            "clean_values_blanked": clean_blanked, "older_clean_versions_rows": older_rows,
            "quarantine_rows": quarantine_rows, "workspace_feed_rows": feed_rows,
            "workspace_feed_values_blanked": feed_blanked}


def _hits(values: pd.Series, employee_id: str) -> np.ndarray:
    """Values that are the id, or a composite key starting with it (``E1|2024-04|h1``)."""
    text = values.astype("string")
    return (text.eq(employee_id) | text.str.startswith(employee_id + "|")).to_numpy(dtype=bool, na_value=False)


def _scrub_parquet(path: Path, tmp: Path, employee_id: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    drop = np.zeros(table.num_rows, dtype=bool)
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_dictionary(col.type):
            drop |= _hits(col.to_pandas(), employee_id)
    if drop.any():
        pq.write_table(table.filter(pa.array(~drop)), tmp)
    return int(drop.sum())


def _scrub_csv(path: Path, tmp: Path, employee_id: str) -> int:
    if employee_id.encode() not in path.read_bytes():
        return 0
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    drop = np.zeros(len(df), dtype=bool)
    for c in df.columns:
        drop |= _hits(df[c], employee_id)
    if drop.any():
        df.loc[~drop].to_csv(tmp, index=False)
    return int(drop.sum())


def _scrub_text(path: Path, tmp: Path, employee_id: str) -> int:
    text = path.read_text(encoding="utf-8", errors="replace")
    if employee_id not in text:
        return 0
    if path.suffix.lower() == ".jsonl":
        lines = text.splitlines(keepends=True)
        kept = [line for line in lines if employee_id not in line]
        n, text = len(lines) - len(kept), "".join(kept)
    else:
        n = text.count(employee_id)
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(employee_id)}(?![A-Za-z0-9_])", "[erased]", text)
        text = text.replace(employee_id + "|", "[erased]|")
    tmp.write_text(text, encoding="utf-8")
    return n


_SCRUBBERS = {".parquet": _scrub_parquet, ".csv": _scrub_csv,
              **dict.fromkeys((".json", ".jsonl", ".md", ".txt", ".yaml", ".yml", ".html"), _scrub_text)}


def scrub_files(root: Path, employee_id: str, skip: tuple[Path, ...] = ()) -> dict[str, int]:
    """Remove a person's rows from every data file under ``root`` that is not a feed table (MLflow artifacts
    such as ``evaluation/units.parquet``, the simulator's truth next to demo feeds): Parquet and CSV rows with
    a text value equal to the id (or a key starting with it), JSON Lines lines mentioning it; in any other
    text file (JSON, Markdown, YAML) the id is replaced by ``[erased]``. Returns rows removed per file
    (paths relative to ``root``)."""
    done: dict[str, int] = {}
    if not root.exists():
        return done
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        scrub = _SCRUBBERS.get(path.suffix.lower())
        if scrub is None or any(path.is_relative_to(s) for s in skip):
            continue
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            n = scrub(path, tmp, employee_id)
            if n:
                os.replace(tmp, path)
                done[str(path.relative_to(root))] = n
        finally:
            tmp.unlink(missing_ok=True)
    return done


def compact_sqlite(path: Path) -> None:
    """Leave no trace of deleted rows in a SQLite file: fold the WAL back in (checkpoint, truncated) and
    rebuild the file (VACUUM), so freed pages holding erased values are gone."""
    import sqlite3

    if not Path(path).is_file():
        return
    con = sqlite3.connect(path, timeout=60)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
