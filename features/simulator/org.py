"""The organisation: company → divisions → departments → teams, each led by an employee.

Teams are led by one of their members (the team lead); departments, divisions and the company by a head
in a management job. The manager of a team member is the team lead; of a team lead the department head;
of a department head the division head; of a division head the CEO.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.simulator.taxonomy import DIVISION_NAMES, DIVISION_TYPES, Taxonomy

COMPANY, DIVISION, DEPARTMENT, TEAM = range(4)
UNIT_TYPE_NAMES = ("company", "division", "department", "team")
TEAM_SIZE = 8
DEPT_SIZE = 40
LEVEL_MIX = np.array([0.26, 0.30, 0.24, 0.14, 0.06])


@dataclass
class Org:
    """Units (index = row of ``units``), their parent, type, family and division; ``leader`` changes over time."""

    units: pd.DataFrame  # feed columns
    parent: np.ndarray
    kind: np.ndarray
    family: np.ndarray  # family index for departments and teams, -1 otherwise
    division: np.ndarray  # division unit index (-1 for the company)
    leader: np.ndarray  # employee index leading the unit, -1 when vacant
    adopting_division: int  # the division that adopts a new technology

    @property
    def teams(self) -> np.ndarray:
        return np.flatnonzero(self.kind == TEAM)

    def manager_of(self, unit: np.ndarray, emp: np.ndarray) -> np.ndarray:
        """Manager employee index (-1 for the CEO) of employees ``emp`` sitting in ``unit``."""
        unit = np.asarray(unit)
        own = self.leader[unit]
        par = self.parent[unit]
        above = np.where(par >= 0, self.leader[np.maximum(par, 0)], -1)
        is_team = self.kind[unit] == TEAM
        in_team = is_team & (own >= 0) & (own != emp)
        return np.where(in_team, own, above)


def build_org(n_employees: int, tax: Taxonomy, rng: np.random.Generator) -> tuple[Org, np.ndarray, np.ndarray]:
    """The unit tree sized for ``n_employees`` plus the initial member positions (unit, job) of non-heads."""
    if n_employees < 60:
        raise ValueError(f"employees must be at least 60 (got {n_employees}) to staff a four-division company")
    n_div = max(4, round(n_employees / 2500))
    n_dept = max(2 * n_div, round(n_employees / DEPT_SIZE))
    n_members = n_employees - 1 - n_div - n_dept
    div_types = [DIVISION_TYPES[i % len(DIVISION_TYPES)] for i in range(n_div)]
    fam_by_type = {t: [i for i, f in enumerate(tax.families) if f.division_type == t] for t in DIVISION_TYPES}

    rows = [("OU-0001", None, "TalentLoop Demo Co.", "拓才示范公司", "company")]
    parent, kind, family, division = [-1], [COMPANY], [-1], [-1]
    div_units = []
    for d, t in enumerate(div_types):
        en, zh = DIVISION_NAMES[t]
        rows.append((f"OU-{len(rows) + 1:04d}", rows[0][0], f"{en} Division {d // 4 + 1}", f"{zh}事业部{d // 4 + 1}",
                     "division"))
        div_units.append(len(parent))
        parent.append(0)
        kind.append(DIVISION)
        family.append(-1)
        division.append(len(parent) - 1)
    dept_div = np.arange(n_dept) % n_div
    dept_size = 3 + rng.multinomial(n_members - 3 * n_dept, rng.dirichlet(np.full(n_dept, 4.0)))
    member_unit, member_job = [], []
    counters: dict[int, int] = {}
    for p in range(n_dept):
        d_unit = div_units[dept_div[p]]
        fams = fam_by_type[div_types[dept_div[p]]]
        fam = fams[(p // n_div) % len(fams)]
        counters[fam] = counters.get(fam, 0) + 1
        f = tax.families[fam]
        rows.append((f"OU-{len(rows) + 1:04d}", rows[d_unit][0], f"{f.title_en} Department {counters[fam]}",
                     f"{f.title_zh}部{counters[fam]}", "department"))
        p_unit = len(parent)
        parent.append(d_unit)
        kind.append(DEPARTMENT)
        family.append(fam)
        division.append(d_unit)
        n_teams = max(1, int(dept_size[p]) // TEAM_SIZE)
        team_size = 2 + rng.multinomial(int(dept_size[p]) - 2 * n_teams, np.full(n_teams, 1.0 / n_teams))
        fam_jobs = np.flatnonzero(tax.jobs["family_idx"].to_numpy() == fam)
        for k in range(n_teams):
            rows.append((f"OU-{len(rows) + 1:04d}", rows[p_unit][0], f"{f.title_en} Team {counters[fam]}-{k + 1}",
                         f"{f.title_zh}{counters[fam]}-{k + 1}组", "team"))
            t_unit = len(parent)
            parent.append(p_unit)
            kind.append(TEAM)
            family.append(fam)
            division.append(d_unit)
            levels = rng.choice(5, int(team_size[k]), p=LEVEL_MIX)
            if levels.max() < 3:
                levels[0] = 3  # every team has a lead-level member
            member_unit.append(np.full(len(levels), t_unit, np.int32))
            member_job.append(fam_jobs[np.sort(levels)[::-1]].astype(np.int32))
    units = pd.DataFrame(rows, columns=["org_unit_id", "parent_id", "name_en", "name_zh", "unit_type"])
    tech_divs = [u for u, t in zip(div_units, div_types, strict=True) if t == "technology"]
    org = Org(units, np.array(parent, np.int32), np.array(kind, np.int8), np.array(family, np.int32),
              np.array(division, np.int32), np.full(len(rows), -1, np.int64), tech_divs[0])
    return org, np.concatenate(member_unit), np.concatenate(member_job)


def management_job(tax: Taxonomy, unit_kind: int) -> int:
    """Job index of the head of a company (level 5), division (4) or department (3)."""
    jobs = tax.jobs
    level = {COMPANY: 5, DIVISION: 4, DEPARTMENT: 3}[unit_kind]
    hit = np.flatnonzero((jobs["family"].to_numpy() == "management") & (jobs["level"].to_numpy() == level))
    return int(hit[0])
