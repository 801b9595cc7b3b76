"""Phase 2 of an ingest: in reference order, resolve course and skill names, drop exact duplicates, find
conflicting keys and check every reference against the accepted rows of the referenced table (this ingest's
rows for delivered feeds, the previous clean state for the others)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from features.contract import CONTRACT, Table, dependency_order
from features.ingest.normalise import name_lookup, resolve_references
from features.ingest.stage import StagedTable
from features.ingest.validate import _CODE, check_duplicates, check_reference


@dataclass(frozen=True)
class Resolvable:
    """A reference target whose values may arrive as an alias or a title instead of the id."""

    target: str  # "courses.course_id"
    alias_table: str  # table of alias → id rows
    names: tuple[str, ...]  # columns of the target table that name a row (titles)


RESOLVABLE: dict[str, Resolvable] = {
    "courses.course_id": Resolvable("courses.course_id", "course_aliases", ("title_en", "title_zh")),
    "skills.skill_id": Resolvable("skills.skill_id", "skill_aliases", ("name_en", "name_zh")),
}


def check_order() -> list[Table]:
    """``dependency_order()`` with each alias table moved right after the table it names, so aliases are known
    before any table that refers to courses or skills is checked."""
    alias_tables = {r.alias_table: r.target.split(".")[0] for r in RESOLVABLE.values()}
    order = [t for t in dependency_order() if t.name not in alias_tables]
    for alias, target in alias_tables.items():
        order.insert(order.index(CONTRACT[target]) + 1, CONTRACT[alias])
    return order


def check_references(staged: dict[str, StagedTable], previous: Callable[[str], pd.DataFrame],
                     mapping_aliases: dict[str, dict[str, str]]) -> None:
    """Run phase 2 on every staged table, marking their status. Tables are checked in :func:`check_order`,
    so a referenced staged table is final before anything refers to it.

    ``previous(table)`` returns the clean state of a table that is not part of this ingest;
    ``mapping_aliases`` maps a target ("courses.course_id") to the mapping file's alias → id.
    """
    earlier: dict[str, pd.DataFrame] = {}
    lookups: dict[tuple[str, bool], tuple[pd.Series, dict[str, str]]] = {}

    def column_of(name: str, column: str) -> pd.Series:
        """Accepted values of one column: this ingest's rows when staged (and checked), else the clean state."""
        if name in staged:
            st_ = staged[name]
            values = st_.typed[column][st_.status.accepted]
            if st_.kept_previous is not None and len(st_.kept_previous):
                values = pd.concat([values, st_.kept_previous[column].astype(values.dtype)], ignore_index=True)
            return values
        if name not in earlier:
            earlier[name] = previous(name)
        return earlier[name][column]

    for table in check_order():
        st = staged.get(table.name)
        if st is None:
            continue
        for col in table.columns:
            if col.ref in RESOLVABLE:
                r = RESOLVABLE[col.ref]
                key = (col.ref, table.name == r.alias_table)
                if key not in lookups:
                    lookups[key] = _lookup(r, column_of, mapping_aliases.get(col.ref, {}), use_alias_table=not key[1])
                ids, lookup = lookups[key]
                st.typed[col.name] = resolve_references(st.typed[col.name], ids, lookup)
        check_duplicates(st.typed, table, st.status)
        _keep_previous(st, table, previous)
        for col in table.columns:
            if not col.ref:
                continue
            ref_table, ref_col = col.ref.split(".")
            if ref_table == table.name:
                while check_reference(st.typed, table, col.name, column_of(table.name, ref_col), st.status):
                    pass  # a removed parent orphans its children: repeat until nothing changes
            else:
                check_reference(st.typed, table, col.name, column_of(ref_table, ref_col), st.status)


def _lookup(r: Resolvable, column_of: Callable[[str, str], pd.Series], extra: dict[str, str],
            use_alias_table: bool) -> tuple[pd.Series, dict[str, str]]:
    """The known ids of a target and the name → id lookup: alias table, then mapping aliases, then titles."""
    target_table, target_col = r.target.split(".")
    ids = column_of(target_table, target_col)
    pairs: list[tuple[pd.Series, pd.Series]] = []
    if use_alias_table:
        pairs.append((column_of(r.alias_table, "alias"), column_of(r.alias_table, target_col)))
    if extra:
        pairs.append((pd.Series(list(extra), dtype="string"), pd.Series(list(extra.values()), dtype="string")))
    pairs.extend((column_of(target_table, n), ids) for n in r.names)
    return ids, name_lookup(pairs)


def _key_text(df: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    out = df[key[0]].astype("string").fillna("")
    for k in key[1:]:
        out = out + "\x1f" + df[k].astype("string").fillna("")
    return out.reset_index(drop=True)


def _keep_previous(st: StagedTable, table: Table, previous: Callable[[str], pd.DataFrame]) -> None:
    """For keys whose new rows clash (``duplicate_key``), keep the previous accepted version of the key, when
    the previous clean state has one, so one bad export row does not remove a person or an event."""
    st.kept_previous, st.kept_mask = None, None
    clash = st.status.code == _CODE["duplicate_key"]
    if not clash.any():
        return
    before = previous(table.name)
    if before.empty:
        return
    keys = _key_text(st.typed, table.key)
    clash_keys = set(keys[clash].tolist())
    prev_keys = _key_text(before, table.key)
    hit = prev_keys.isin(clash_keys).to_numpy(dtype=bool)
    if not hit.any():
        return
    kept = before.loc[hit].reset_index(drop=True)
    for c in kept.columns:  # the staged frame's dtypes (e.g. dates in ns), so values compare and concatenate
        if c in st.typed.columns:
            with contextlib.suppress(TypeError, ValueError):
                kept[c] = kept[c].astype(st.typed[c].dtype)
    st.kept_previous = kept
    st.kept_mask = clash & keys.isin(set(prev_keys[hit].tolist())).to_numpy(dtype=bool)
