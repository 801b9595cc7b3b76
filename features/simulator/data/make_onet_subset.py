"""Derive ``onet_subset.csv`` (the simulator's occupations and skills) from the O*NET database.

Run from the repository root with the shared data beside it::

    .venv/bin/python features/simulator/data/make_onet_subset.py ../shared/data/onet

This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor,
Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 license.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ATTRIBUTION = (
    "This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor, "
    "Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 license."
)

# O*NET-SOC codes the simulated company's job families are grounded in.
OCCUPATIONS = (
    "41-4012.00", "43-4051.00", "15-1251.00", "13-2011.00", "13-1071.00", "13-1161.00", "15-1299.09",
    "15-2051.01", "17-3023.00", "43-1011.00", "13-2031.00", "13-1081.00", "15-1232.00", "11-1021.00",
)
TECHNOLOGIES = (
    "Microsoft Excel", "Structured query language SQL", "Python", "Salesforce software", "SAP software",
    "Tableau", "Amazon Web Services AWS software", "Git", "Microsoft Power BI",
)
CATEGORIES = {
    "2.A.1": "basic_content", "2.A.2": "basic_process", "2.B.1": "social", "2.B.2": "complex_problem_solving",
    "2.B.3": "technical", "2.B.4": "systems", "2.B.5": "resource_management",
}


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def build(onet_dir: Path) -> list[dict[str, str]]:
    """Rows: occupation × skill with importance (1-5) and level (0-7); technology rows have hot flag."""
    titles = {r["O*NET-SOC Code"]: r["Title"] for r in _read_tsv(onet_dir / "Occupation Data.txt")}
    skills: dict[tuple[str, str], dict[str, str]] = {}
    for r in _read_tsv(onet_dir / "Skills.tsv"):
        code = r["O*NET-SOC Code"]
        if code not in OCCUPATIONS:
            continue
        key = (code, r["Element ID"])
        row = skills.setdefault(key, {
            "onet_code": code, "occupation": titles[code], "skill_key": r["Element ID"],
            "skill_name": r["Element Name"], "category": CATEGORIES[r["Element ID"][:5]],
            "importance": "", "level": "", "hot": "",
        })
        if r["Scale ID"] == "IM":
            row["importance"] = r["Data Value"]
        elif r["Scale ID"] == "LV":
            row["level"] = r["Data Value"]
    rows = sorted(skills.values(), key=lambda d: (d["onet_code"], d["skill_key"]))
    tech_rows = {}
    for r in _read_tsv(onet_dir / "Technology Skills.txt"):
        code, name = r["O*NET-SOC Code"], r["Example"]
        if code in OCCUPATIONS and name in TECHNOLOGIES:
            tech_rows[(code, name)] = {
                "onet_code": code, "occupation": titles[code], "skill_key": name, "skill_name": name,
                "category": "technology", "importance": "", "level": "", "hot": r["Hot Technology"],
            }
    missing = set(OCCUPATIONS) - {r["onet_code"] for r in rows}
    if missing:
        raise ValueError(f"occupations without O*NET skill ratings: {sorted(missing)}")
    return rows + [tech_rows[k] for k in sorted(tech_rows)]


def main(argv: list[str]) -> None:
    onet_dir = Path(argv[1]) if len(argv) > 1 else Path("../shared/data/onet")
    out = Path(__file__).with_name("onet_subset.csv")
    rows = build(onet_dir)
    with out.open("w", encoding="utf-8", newline="") as f:
        f.write(f"# {ATTRIBUTION}\n")
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main(sys.argv)
