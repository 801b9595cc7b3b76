"""The course catalog: titles in English and Chinese, aliases, skills taught, and each course's TRUE effect.

The true effect per (course, skill) and the latent marketing popularity are drawn independently of each
other's sign: popularity is mildly *negatively* related to the effect, so popular courses can be useless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.simulator.taxonomy import ADOPTED_TECHNOLOGY, SKILL_NAMES, Taxonomy

FORMATS = ("online", "workshop", "mentoring")
# code, English pattern, Chinese pattern, format, lowest level, highest level
TEMPLATES = (
    ("ESS", "{en} Essentials", "{zh}精要", "online", 1, 2),
    ("FND", "Foundations of {en}", "{zh}基础", "online", 1, 2),
    ("BC", "{en} Bootcamp", "{zh}训练营", "workshop", 1, 3),
    ("PRC", "{en} in Practice", "{zh}实战", "workshop", 2, 4),
    ("ADV", "Advanced {en}", "高级{zh}", "online", 3, 5),
    ("MNT", "{en} Mentoring Program", "{zh}导师计划", "mentoring", 2, 5),
    ("MC", "{en} Masterclass", "{zh}大师课", "workshop", 4, 5),
)
COURSES_PER_SKILL = 5
# title_en, title_zh, alias, skill taught, calendar month of the yearly campaign
MANDATORY = (
    ("Compliance Essentials", "合规精要", "COMPL", "SK-JDM", 1),
    ("Workplace Ethics", "职业道德", "ETHIC", "SK-SOC", 4),
    ("Information Security Awareness", "信息安全意识", "INFOSEC", "SK-MON", 7),
    ("Data Privacy Protection", "数据隐私保护", "PRIV", "SK-CRT", 10),
)
_HOURS = {"online": (2.0, 12.0), "workshop": (8.0, 24.0), "mentoring": (12.0, 40.0)}
_COST_PER_HOUR = {"online": (40.0, 90.0), "workshop": (150.0, 300.0), "mentoring": (200.0, 400.0)}


@dataclass(frozen=True)
class Catalog:
    """Feed tables of the catalog plus the arrays the monthly loop needs (row i = course i)."""

    courses: pd.DataFrame  # feed columns
    course_skills: pd.DataFrame  # feed columns
    course_aliases: pd.DataFrame  # feed columns
    fmt: np.ndarray  # format index into FORMATS
    hours: np.ndarray
    points: np.ndarray
    created_month: np.ndarray  # month index relative to the simulation start (negative: before)
    popularity: np.ndarray  # latent log-popularity
    has_exam: np.ndarray
    mandatory_month: np.ndarray  # calendar month of the yearly campaign, 0 for ordinary courses
    cs_course: np.ndarray  # course × skill pairs ...
    cs_skill: np.ndarray
    cs_target: np.ndarray
    cs_effect: np.ndarray  # TRUE gain in skill level on completion


def _zh_abbreviation(zh_skill: str, zh_suffix: str) -> str:
    """销售管理 → 销管 style: first character of each two-character block, plus the template's first."""
    han = "".join(re.findall(r"[\u4e00-\u9fff]", zh_skill))
    short = han[::2] if len(han) >= 4 else han[:2]
    return short + zh_suffix[:1]


def build_catalog(tax: Taxonomy, rng: np.random.Generator, months: int) -> Catalog:
    """At least 200 courses: several per skill from title templates, plus the mandatory ones. A course teaches
    its skill and up to two related ones (same O*NET skill category: Negotiation with Persuasion, not AWS)."""
    sids = tax.skills["skill_id"].to_numpy()
    zh = dict(zip(tax.skills["skill_id"], tax.skills["name_zh"], strict=True))
    en = dict(zip(tax.skills["skill_id"], tax.skills["name_en"], strict=True))
    codes = {v[0]: v[2] for v in SKILL_NAMES.values()}
    category = tax.skills["category"].astype(str).to_numpy()
    rows, pairs, aliases = [], [], []
    for s_idx, sid in enumerate(sids):
        chosen = np.sort(rng.choice(len(TEMPLATES), COURSES_PER_SKILL, replace=False))
        for t in chosen:
            code, pat_en, pat_zh, fmt, lo, hi = TEMPLATES[t]
            c = len(rows)
            rows.append({"title_en": pat_en.format(en=en[sid]), "title_zh": pat_zh.format(zh=zh[sid]), "format": fmt,
                         "level": int(rng.integers(lo, hi + 1)), "mandatory_month": 0, "skill": s_idx})
            suffix = pat_zh.replace("{zh}", "")
            aliases += [(rows[-1]["title_zh"], c), (f"{codes[sid]}-{code}", c), (_zh_abbreviation(zh[sid], suffix), c)]
            target = min(5, rows[-1]["level"] + 1)
            pairs.append((c, s_idx, target, True))
            # secondary skills come from related skills (the same O*NET skill category), as a real catalog's do
            related = np.flatnonzero((category == category[s_idx]) & (np.arange(len(sids)) != s_idx))
            extra = min(int(rng.choice([0, 1, 2], p=[0.5, 0.35, 0.15])), len(related))
            others = rng.choice(related, extra, replace=False)
            pairs += [(c, int(o), max(1, target - int(rng.integers(0, 2))), False) for o in np.sort(others)]
    skill_pos = {sid: i for i, sid in enumerate(sids)}
    for title_en, title_zh, alias, sid, month in MANDATORY:
        c = len(rows)
        rows.append({"title_en": title_en, "title_zh": title_zh, "format": "online", "level": 1,
                     "mandatory_month": month, "skill": skill_pos[sid]})
        aliases += [(title_zh, c), (alias, c)]
        pairs.append((c, skill_pos[sid], 2, True))
    n = len(rows)
    meta = pd.DataFrame(rows)
    fmt = meta["format"].map({f: i for i, f in enumerate(FORMATS)}).to_numpy(np.int8)
    lo_hi = np.array([_HOURS[f] for f in meta["format"]])
    hours = np.round(rng.uniform(lo_hi[:, 0], lo_hi[:, 1]) * 2) / 2
    mandatory_month = meta["mandatory_month"].to_numpy(np.int8)
    hours[mandatory_month > 0] = 1.5
    cph = np.array([_COST_PER_HOUR[f] for f in meta["format"]])
    cost = np.round(hours * rng.uniform(cph[:, 0], cph[:, 1]), 0)
    cost[mandatory_month > 0] = 0.0
    points = np.round(hours * 10).astype(np.int64)
    has_exam = np.where(fmt == 2, rng.random(n) < 0.2, rng.random(n) < 0.8) | (mandatory_month > 0)

    # Course creation: most before the window, some during it (technology ones around the adoption).
    created = -rng.integers(1, 72, n)
    new = rng.random(n) < 0.10
    adopted = np.isin(sids[meta["skill"].to_numpy()], ADOPTED_TECHNOLOGY) & (rng.random(n) < 0.5)
    new |= adopted
    new &= mandatory_month == 0
    created[new] = rng.integers(0, max(1, months - 2), int(new.sum()))

    p = np.array(pairs, dtype=np.int64)
    primary = p[:, 3].astype(bool)
    u = rng.random(len(p))
    effect = np.where(u < 0.3, rng.uniform(0.0, 0.1, len(p)),
                      np.where(u < 0.8, rng.uniform(0.15, 0.6, len(p)), rng.uniform(0.7, 1.3, len(p))))
    effect = np.where(primary, effect, effect * rng.uniform(0.2, 1.0, len(p)))
    effect *= np.where(fmt[p[:, 0]] == 2, 1.15, 1.0)
    effect[mandatory_month[p[:, 0]] > 0] = rng.uniform(0.0, 0.1, int((mandatory_month[p[:, 0]] > 0).sum()))
    prim_effect = np.zeros(n)
    prim_effect[p[primary, 0]] = effect[primary]
    z = (prim_effect - prim_effect.mean()) / prim_effect.std()
    popularity = -0.6 * z + rng.normal(0.0, 1.0, n)

    course_ids = np.array([f"C-{i + 1:04d}" for i in range(n)])
    courses = pd.DataFrame({"course_id": course_ids, "title_en": meta["title_en"], "title_zh": meta["title_zh"],
                            "format": meta["format"], "hours": hours, "level": meta["level"].astype("int64"),
                            "cost": cost, "points": points, "mandatory": mandatory_month > 0,
                            "created_month": created})
    course_skills = pd.DataFrame({"course_id": course_ids[p[:, 0]], "skill_id": sids[p[:, 1]],
                                  "target_level": p[:, 2].astype("int64")})
    al = pd.DataFrame(aliases, columns=["alias", "course_idx"]).drop_duplicates("alias", keep=False)
    al = al[~al["alias"].isin(course_ids)]
    course_aliases = pd.DataFrame({"alias": al["alias"].to_numpy(), "course_id": course_ids[al["course_idx"]]})
    return Catalog(courses, course_skills, course_aliases, fmt, hours, points, created, popularity, has_exam,
                   mandatory_month, p[:, 0], p[:, 1].astype(np.int32), p[:, 2].astype(np.float32),
                   effect.astype(np.float32))


def effects_table(cat: Catalog) -> pd.DataFrame:
    """Truth: course_id, skill_id, effect, popularity."""
    ids = cat.courses["course_id"].to_numpy()
    return pd.DataFrame({"course_id": ids[cat.cs_course], "skill_id": cat.course_skills["skill_id"].to_numpy(),
                         "effect": cat.cs_effect.astype(np.float64), "popularity": cat.popularity[cat.cs_course]})
