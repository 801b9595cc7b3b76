"""A tiny hand-made company (all four feeds) for the ingestion tests; no tests live here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.contract import CONTRACT

EMPLOYEES = ["E1", "E2", "E3", "E4", "E5", "E6"]


def _rows(table: str, *rows: tuple) -> pd.DataFrame:
    return pd.DataFrame([list(map(str, r)) for r in rows], columns=CONTRACT[table].column_names, dtype=object)


def company() -> dict[str, pd.DataFrame]:
    """Every contract table as strings, clean (ingesting it quarantines nothing)."""
    t: dict[str, pd.DataFrame] = {}
    t["org_units"] = _rows("org_units",
                           ("ORG0", "", "Acme", "艾克米", "company"),
                           ("ORG1", "ORG0", "Sales", "销售部", "division"),
                           ("ORG2", "ORG1", "Sales East", "华东销售", "team"))
    t["jobs"] = _rows("jobs",
                      ("J1", "Sales rep", "销售代表", "sales", 1, "41-4012.00", 50000, 60000, 70000, "J2"),
                      ("J2", "Sales manager", "销售经理", "sales", 3, "", 80000, 95000, 110000, ""))
    t["skills"] = _rows("skills",
                        ("S1", "Selling", "销售", "social", "2.B.1.e"),
                        ("S2", "Negotiation", "谈判", "social", "2.B.1.d"),
                        ("S3", "Excel", "电子表格", "technology", ""))
    t["skill_aliases"] = _rows("skill_aliases", ("Sales skill", "S1"))
    t["job_skill_requirements"] = _rows("job_skill_requirements",
                                        ("J1", "S1", 2, 3.5), ("J1", "S2", 2, 3.0), ("J2", "S1", 4, 4.5),
                                        ("J2", "S3", 3, 2.5))
    t["employees"] = _rows("employees",
                           ("E1", "2020-01-06", 1980, "female", "han", "married", "CN"),
                           ("E2", "2021-03-01", 1990, "male", "han", "single", "CN"),
                           ("E3", "2021-06-15", 1995, "female", "", "single", "CN"),
                           ("E4", "2022-02-01", 1988, "undisclosed", "", "", ""),
                           ("E5", "2022-09-12", 1999, "male", "hui", "single", "CN"),
                           ("E6", "2024-04-01", 1997, "female", "han", "single", "CN"))
    t["employment_events"] = _rows("employment_events",
                                   ("EV1", "E1", "2020-01-06", "hire", "ORG1", "J2", "", 90000, "", ""),
                                   ("EV2", "E2", "2021-03-01", "hire", "ORG2", "J1", "E1", 55000, "", ""),
                                   ("EV3", "E3", "2021-06-15", "hire", "ORG2", "J1", "E1", 56000, "", ""),
                                   ("EV4", "E4", "2022-02-01", "hire", "ORG2", "J1", "E1", 57000, "", ""),
                                   ("EV5", "E5", "2022-09-12", "hire", "ORG2", "J1", "E2", 52000, "", ""),
                                   ("EV6", "E4", "2024-01-31", "termination", "ORG2", "J1", "E1", 57000,
                                    "voluntary", "better offer"),
                                   ("EV7", "E6", "2024-04-01", "hire", "ORG2", "J1", "E1", 54000, "", ""),
                                   ("EV8", "E2", "2024-07-01", "promotion", "ORG2", "J2", "E1", 82000, "", ""))
    t["headcount_plans"] = _rows("headcount_plans",
                                 ("ORG2", "J1", "2024-01-01", 4), ("ORG2", "J1", "2024-02-01", 4),
                                 ("ORG1", "J2", "2024-01-01", 1))
    t["reviews"] = _rows("reviews",
                         *[(e, "2024Q1", "2024-03-28", "E1" if e != "E1" else "", 0.9 + i / 10, 3 + i % 2)
                           for i, e in enumerate(["E1", "E2", "E3", "E5"])])
    t["competency_ratings"] = _rows("competency_ratings",
                                    *[(e, "2024Q1", "2024-03-28", s, 2 + (i + j) % 3)
                                      for i, e in enumerate(["E1", "E2", "E3", "E5"])
                                      for j, s in enumerate(["S1", "S2"])])
    t["courses"] = _rows("courses",
                         ("C1", "Sales management", "销售管理", "workshop", 16, 3, 1200, 20, "false", "2019-05-01"),
                         ("C2", "Negotiation basics", "谈判基础", "online", 4, 1, 0, 5, "false", "2019-05-01"),
                         ("C3", "Compliance", "合规", "online", 1, 1, 0, 1, "true", "2020-01-01"))
    t["course_aliases"] = _rows("course_aliases", ("销管", "C1"))
    t["course_skills"] = _rows("course_skills", ("C1", "S1", 4), ("C2", "S2", 2), ("C1", "S2", 3))
    t["enrollments"] = _rows("enrollments",
                             ("N1", "E2", "销管", "2023-01-10", "self", "completed", "2023-02-01", 88),
                             ("N2", "E3", "销售管理", "2023-01-10", "assigned", "completed", "2023-02-03", 75),
                             ("N3", "E5", "C2", "2023-03-01", "recommended", "enrolled", "", ""),
                             ("N4", "E1", "Compliance", "2023-03-01", "mandatory", "completed", "2023-03-02", ""))
    t["points_ledger"] = _rows("points_ledger",
                               ("P1", "E2", "2023-02-01", 20, "course_completion"),
                               ("P2", "E3", "2023-02-03", 20, "course_completion"),
                               ("P3", "E2", "2023-06-01", -10, "redemption"))
    t["requisitions"] = _rows("requisitions",
                              ("R1", "ORG2", "J1", "2024-01-15", "2024-03-20", "backfill"),
                              ("R2", "ORG2", "J1", "2024-05-01", "", "growth"))
    t["requisition_skills"] = _rows("requisition_skills", ("R1", "S1", 2), ("R2", "S1", 2), ("R2", "S2", 1))
    t["candidates"] = _rows("candidates",
                            ("K1", "R1", "2024-01-20", "referral", "hired", "E6"),
                            ("K2", "R1", "2024-01-22", "job_board", "rejected", ""),
                            ("K3", "R2", "2024-05-10", "campus", "applied", ""))
    t["assessments"] = _rows("assessments",
                             ("K1", "S1", 3.5, "2024-02-01"), ("K1", "S2", 2.0, "2024-02-01"),
                             ("K2", "S1", 2.5, "2024-02-02"))
    assert set(t) == set(CONTRACT)
    return t


def write_feeds(root: Path, tables: dict[str, pd.DataFrame], fmt: str = "csv",
                feeds: tuple[str, ...] | None = None) -> Path:
    """Write ``root/<feed>/<table>.<fmt>`` (CSV as UTF-8); only the given feeds when ``feeds`` is set."""
    for name, df in tables.items():
        feed = CONTRACT[name].feed
        if feeds is not None and feed not in feeds:
            continue
        folder = root / feed
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False, encoding="utf-8")
        elif fmt == "parquet":
            df.astype("string").to_parquet(path, index=False)
        else:
            df.to_excel(path, index=False, engine="openpyxl")
    return root
