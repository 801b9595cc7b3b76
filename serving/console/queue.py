"""The alert queue: the caller's alerts filtered by unit, band, status and month, sorted, paginated, exported.

One SQL read of the light alert columns (never the stored explanations), joined to the same employee's score
of the month before at the alert's horizon (the change since last month); job, unit, manager, tenure and last
rating come from :class:`serving.console.people.People` as of the alert's month.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

from models.attrition.alerts import STATUSES
from serving.auth import OrgTree, Principal
from serving.console import i18n
from serving.console.modelinfo import BANDS, Bands
from serving.console.people import People, Person

SORTS = ("risk", "change", "month", "tenure", "rating", "unit", "job", "status", "employee")
PAGE_SIZES = (25, 50, 100, 500)


@dataclass(frozen=True)
class Query:
    unit: str | None = None
    band: str | None = None
    status: str | None = None
    month: str | None = None
    sort: str = "risk"
    desc: bool = True
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class Row:
    alert_id: str
    as_of: str
    employee_id: str
    org_unit_id: str | None
    horizon: int
    risk: float
    model_version: str
    status: str
    previous: float | None
    band: str
    person: Person | None  # looked up only for the rows shown, or for all when sorting by a person field

    @property
    def change(self) -> float | None:
        return None if self.previous is None else self.risk - self.previous


@dataclass(frozen=True)
class Result:
    rows: list[Row]
    total: int
    page: int
    pages: int
    months: list[str]


def parse(params: dict[str, str]) -> tuple[Query, list[str]]:
    """A :class:`Query` from the page's parameters, and the names of parameters that were not valid (ignored)."""
    bad = []

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        v = (params.get(name) or "").strip()
        if not v:
            return None
        if v not in allowed:
            bad.append(name)
            return None
        return v

    def integer(name: str, default: int, low: int, high: int) -> int:
        v = (params.get(name) or "").strip()
        if not v:
            return default
        try:
            n = int(v)
        except ValueError:
            bad.append(name)
            return default
        if not low <= n <= high:
            bad.append(name)
            return default
        return n

    month = (params.get("month") or "").strip() or None
    if month is not None and not (len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit()):
        bad.append("month")
        month = None
    size = integer("page_size", 50, 1, 500)
    if size not in PAGE_SIZES:
        bad.append("page_size")
        size = 50
    query = Query(unit=(params.get("unit") or "").strip()[:64] or None, band=choice("band", BANDS),
                  status=choice("status", STATUSES), month=month, sort=choice("sort", SORTS) or "risk",
                  desc=(params.get("dir") or "desc") != "asc", page=integer("page", 1, 1, 1_000_000), page_size=size)
    return query, bad


def visible_units(tree: OrgTree, who: Principal, unit: str | None) -> list[str] | None:
    """Units whose alerts the query may show (None: every unit); raises LookupError for a unit out of sight."""
    if unit is None:
        return None if who.scope is None else sorted(who.scope)
    subtree = tree.subtree(unit)
    if not subtree or not who.sees(unit):
        raise LookupError(unit)
    return sorted(subtree if who.scope is None else subtree & who.scope)


def fetch(con: Any, units: list[str] | None, query: Query, bands: Bands) -> list[Row]:
    """Every alert matching the filters (unsorted, not paginated, people not looked up yet)."""
    where, args = [], []
    if units is not None:
        if not units:
            return []
        where.append(f"a.org_unit_id IN ({','.join('?' * len(units))})")
        args.extend(units)
    if query.status:
        where.append("a.status = ?")
        args.append(query.status)
    if query.month:
        where.append("a.as_of = ?")
        args.append(f"{query.month}-01")
    if query.band:
        lower = bands.lower
        where.append("a.risk >= ?")
        args.append(lower[query.band])
        i = BANDS.index(query.band)
        if i > 0:
            where.append("a.risk < ?")
            args.append(lower[BANDS[i - 1]])
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = ("SELECT a.alert_id, a.as_of, a.employee_id, a.org_unit_id, a.horizon, a.risk, a.model_version, a.status, "
           "json_extract(p.risks, '$.h' || a.horizon) FROM attrition_alerts a LEFT JOIN attrition_scores p "
           "ON p.as_of = date(a.as_of, '-1 month') AND p.employee_id = a.employee_id " + clause)
    out = []
    for r in con.execute(sql, args).fetchall():
        previous = None if r[8] is None else float(r[8])
        out.append(Row(r[0], r[1], r[2], r[3], int(r[4]), float(r[5]), str(r[6]), r[7], previous,
                       bands.of(float(r[5])), None))
    return out


def with_people(rows: list[Row], people: People) -> list[Row]:
    return [r if r.person is not None else Row(r.alert_id, r.as_of, r.employee_id, r.org_unit_id, r.horizon, r.risk,
                                               r.model_version, r.status, r.previous, r.band,
                                               people.at(r.employee_id, r.as_of)) for r in rows]


def months(con: Any, units: list[str] | None) -> list[str]:
    """The alert months the caller can filter on, newest first (``YYYY-MM``)."""
    if units is None:
        rows = con.execute("SELECT DISTINCT as_of FROM attrition_alerts ORDER BY as_of DESC").fetchall()
    elif not units:
        return []
    else:
        rows = con.execute(f"SELECT DISTINCT as_of FROM attrition_alerts WHERE org_unit_id IN "
                           f"({','.join('?' * len(units))}) ORDER BY as_of DESC", units).fetchall()
    return [r[0][:7] for r in rows]


def _key(sort: str, lang: str):
    """The sort key of ``sort`` (person fields only for the person sorts, where people were looked up)."""
    getters = {
        "risk": lambda r: r.risk,
        "change": lambda r: r.change if r.change is not None else -math.inf,
        "month": lambda r: r.as_of,
        "tenure": lambda r: r.person.tenure_months if r.person.tenure_months is not None else -1,
        "rating": lambda r: r.person.rating if r.person.rating is not None else 0,
        "unit": lambda r: (r.person.unit_name or {}).get(lang, ""),
        "job": lambda r: (r.person.job_title or {}).get(lang, ""),
        "status": lambda r: STATUSES.index(r.status) if r.status in STATUSES else len(STATUSES),
        "employee": lambda r: r.employee_id,
    }
    get = getters[sort]
    return lambda r: (get(r), r.alert_id)


PERSON_SORTS = ("tenure", "rating", "unit", "job")


def sort_rows(rows: list[Row], query: Query, lang: str, people: People) -> list[Row]:
    if query.sort in PERSON_SORTS:
        rows = with_people(rows, people)
    return sorted(rows, key=_key(query.sort, lang), reverse=query.desc)


def page(rows: list[Row], query: Query, all_months: list[str], people: People) -> Result:
    pages = max(1, math.ceil(len(rows) / query.page_size))
    number = min(query.page, pages)
    start = (number - 1) * query.page_size
    return Result(with_people(rows[start:start + query.page_size], people), len(rows), number, pages, all_months)


@dataclass(frozen=True)
class Cells:
    """One queue row worded for the page (formatted once here, so the template only prints)."""

    alert_id: str
    unit_id: str
    employee: str
    job: str
    unit: str
    manager: str
    tenure: str
    rating: str
    risk: str
    risk_title: str
    band: str
    band_label: str
    change: str
    status: str
    status_label: str
    month: str


def cells(rows: list[Row], f: i18n.Fmt) -> list[Cells]:
    labels = {k: f.t(k) for k in [*(f"band.{b}" for b in BANDS), *(f"status.{s}" for s in STATUSES)]}
    months: dict[str, str] = {}
    out = []
    for r in rows:
        p = r.person
        manager = f.t("manager.none")
        if p.manager_id:
            manager = p.manager_id + (f" · {f.name(p.manager_title, 'job.missing')}" if p.manager_title else "")
        month = months.get(r.as_of) or months.setdefault(r.as_of, f.month(r.as_of))
        out.append(Cells(r.alert_id, r.org_unit_id or "", r.employee_id, f.name(p.job_title, "job.missing"),
                         f.name(p.unit_name, "unit.missing"), manager, f.tenure(p.tenure_months),
                         f.rating(p.rating, p.rating_cycle), f.pct(r.risk),
                         f.t("risk.within", risk=f.pct(r.risk), h=r.horizon), r.band, labels[f"band.{r.band}"],
                         f.change(r.change), r.status, labels[f"status.{r.status}"], month))
    return out


# ---------------------------------------------------------------------- export
def export_table(rows: list[Row], lang: str, people: People) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the export, worded in ``lang`` (numbers stay numbers)."""
    t = i18n.t
    header = [t(lang, "col.alert"), t(lang, "col.month"), t(lang, "col.employee"), t(lang, "col.job"),
              t(lang, "col.unit"), t(lang, "col.manager"), t(lang, "col.tenure") + (" (months)" if lang == "en"
                                                                                  else "（月）"),
              t(lang, "col.rating"), t(lang, "col.horizon"), t(lang, "col.risk") + " (%)",
              t(lang, "col.band"), t(lang, "col.change") + (" (pts)" if lang == "en" else "（百分点）"),
              t(lang, "col.status")]
    body = []
    for r in with_people(rows, people):
        p = r.person
        body.append([
            r.alert_id, r.as_of[:7], r.employee_id,
            (p.job_title or {}).get(lang) or t(lang, "job.missing"),
            (p.unit_name or {}).get(lang) or t(lang, "unit.missing"),
            p.manager_id or t(lang, "manager.none"),
            p.tenure_months if p.tenure_months is not None else t(lang, "tenure.missing"),
            p.rating if p.rating is not None else t(lang, "rating.none"),
            r.horizon, round(r.risk * 100, 1), t(lang, f"band.{r.band}"),
            round(r.change * 100, 1) if r.change is not None else t(lang, "change.none"),
            t(lang, f"status.{r.status}"),
        ])
    return header, body


def to_csv(rows: list[Row], lang: str, people: People) -> bytes:
    header, body = export_table(rows, lang, people)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(body)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: spreadsheet programs then read the Chinese right


def to_xlsx(rows: list[Row], lang: str, people: People) -> bytes:
    from openpyxl import Workbook

    header, body = export_table(rows, lang, people)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="alerts" if lang == "en" else "预警")
    ws.append(header)
    for r in body:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
