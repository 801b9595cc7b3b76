"""Skills, job families and jobs of the demo company, grounded in O*NET (see ``data/onet_subset.csv``).

This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor,
Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 license.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ONET_SUBSET = Path(__file__).parent / "data" / "onet_subset.csv"

# O*NET skill or technology name -> (skill id, Chinese name, short code, aliases)
SKILL_NAMES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "Reading Comprehension": ("SK-RDC", "阅读理解", "RDC", ("Reading", "阅读")),
    "Active Listening": ("SK-ALS", "积极倾听", "ALS", ("Listening", "倾听")),
    "Writing": ("SK-WRT", "书面表达", "WRT", ("Business Writing", "写作")),
    "Speaking": ("SK-SPK", "口头表达", "SPK", ("Public Speaking", "表达")),
    "Mathematics": ("SK-MTH", "数学运算", "MTH", ("Math", "数学")),
    "Science": ("SK-SCI", "科学素养", "SCI", ("Scientific Method", "科学")),
    "Critical Thinking": ("SK-CRT", "批判性思维", "CRT", ("CT", "批判思维")),
    "Active Learning": ("SK-ALN", "主动学习", "ALN", ("Self-Learning", "自主学习")),
    "Learning Strategies": ("SK-LST", "学习策略", "LST", ("Learning Methods", "学习方法")),
    "Monitoring": ("SK-MON", "监控评估", "MON", ("Self-Monitoring", "监控")),
    "Social Perceptiveness": ("SK-SOC", "社会洞察力", "SOC", ("Empathy", "洞察力")),
    "Coordination": ("SK-CRD", "协调配合", "CRD", ("Teamwork", "协调")),
    "Persuasion": ("SK-PRS", "说服能力", "PRS", ("Influencing", "说服")),
    "Negotiation": ("SK-NEG", "谈判技巧", "NEG", ("Negotiating", "谈判")),
    "Instructing": ("SK-INS", "指导他人", "INS", ("Coaching", "辅导")),
    "Service Orientation": ("SK-SRV", "服务意识", "SRV", ("Customer Focus", "服务")),
    "Complex Problem Solving": ("SK-CPS", "复杂问题解决", "CPS", ("Problem Solving", "解决问题")),
    "Operations Analysis": ("SK-OPA", "运营分析", "OPA", ("Requirements Analysis", "需求分析")),
    "Technology Design": ("SK-TDS", "技术设计", "TDS", ("Tech Design", "设计")),
    "Equipment Selection": ("SK-EQS", "设备选型", "EQS", ("Tool Selection", "选型")),
    "Installation": ("SK-INL", "安装调试", "INL", ("Setup", "安装")),
    "Programming": ("SK-PRG", "编程", "PRG", ("Coding", "写代码")),
    "Operations Monitoring": ("SK-OPM", "运行监测", "OPM", ("Ops Monitoring", "监测")),
    "Operation and Control": ("SK-OPC", "操作控制", "OPC", ("Operations Control", "操控")),
    "Equipment Maintenance": ("SK-EQM", "设备维护", "EQM", ("Maintenance", "保养")),
    "Troubleshooting": ("SK-TRB", "故障排除", "TRB", ("Debugging", "排障")),
    "Repairing": ("SK-RPR", "维修", "RPR", ("Repair", "修理")),
    "Quality Control Analysis": ("SK-QCA", "质量控制分析", "QCA", ("QC", "质控")),
    "Judgment and Decision Making": ("SK-JDM", "判断与决策", "JDM", ("Decision Making", "决策")),
    "Systems Analysis": ("SK-SYA", "系统分析", "SYA", ("System Analysis", "系统分析能力")),
    "Systems Evaluation": ("SK-SYE", "系统评估", "SYE", ("System Evaluation", "评估")),
    "Time Management": ("SK-TMG", "时间管理", "TMG", ("TM", "时间规划")),
    "Management of Financial Resources": ("SK-MFR", "财务资源管理", "MFR", ("Budgeting", "预算管理")),
    "Management of Material Resources": ("SK-MMR", "物资资源管理", "MMR", ("Materials Management", "物资管理")),
    "Management of Personnel Resources": ("SK-MPR", "人力资源管理", "MPR", ("People Management", "人员管理")),
    "Microsoft Excel": ("SK-XLS", "Excel电子表格", "XLS", ("Excel", "表格")),
    "Structured query language SQL": ("SK-SQL", "SQL数据库查询", "SQL", ("SQL", "数据库查询")),
    "Python": ("SK-PY", "Python编程", "PY", ("Python3", "派森")),
    "Salesforce software": ("SK-SFC", "Salesforce客户关系管理", "SFC", ("SFDC", "客户关系管理")),
    "SAP software": ("SK-SAP", "SAP企业资源计划", "SAP", ("SAP ERP", "企业资源计划")),
    "Tableau": ("SK-TBL", "Tableau数据可视化", "TBL", ("Tableau Desktop", "数据可视化")),
    "Amazon Web Services AWS software": ("SK-AWS", "AWS云计算", "AWS", ("AWS", "云计算")),
    "Git": ("SK-GIT", "Git版本控制", "GIT", ("GitHub", "版本控制")),
    "Microsoft Power BI": ("SK-PBI", "Power BI商业智能", "PBI", ("PowerBI", "商业智能")),
}
ADOPTED_TECHNOLOGY = ("SK-AWS", "SK-PY")  # ramped up by the division that adopts a new technology


@dataclass(frozen=True)
class Family:
    """A job family: one O*NET occupation, titles, the division type it belongs to, pay and technologies."""

    family: str
    onet_code: str
    title_en: str
    title_zh: str
    division_type: str
    pay_mid_l1: float
    female_share: float
    technologies: tuple[str, ...]


FAMILIES: tuple[Family, ...] = (
    Family("sales", "41-4012.00", "Sales Representative", "销售代表", "commercial", 110_000, 0.45,
           ("SK-SFC", "SK-XLS")),
    Family("customer_service", "43-4051.00", "Customer Service Representative", "客服专员", "commercial",
           72_000, 0.62, ("SK-SFC",)),
    Family("marketing", "13-1161.00", "Marketing Specialist", "市场专员", "commercial", 120_000, 0.60,
           ("SK-XLS", "SK-TBL")),
    Family("software", "15-1251.00", "Software Developer", "软件开发工程师", "technology", 190_000, 0.27,
           ("SK-GIT", "SK-PY")),
    Family("data_science", "15-2051.01", "Data Scientist", "数据科学家", "technology", 210_000, 0.38,
           ("SK-SQL", "SK-PY", "SK-TBL")),
    Family("project_management", "15-1299.09", "Project Manager", "项目经理", "technology", 180_000, 0.45,
           ("SK-XLS",)),
    Family("it_support", "15-1232.00", "IT Support Specialist", "IT支持专员", "technology", 95_000, 0.30,
           ("SK-SQL",)),
    Family("technician", "17-3023.00", "Electronics Technician", "电子技术员", "operations", 98_000, 0.22,
           ("SK-XLS",)),
    Family("logistics", "13-1081.00", "Logistics Specialist", "物流专员", "operations", 105_000, 0.42,
           ("SK-SAP", "SK-XLS")),
    Family("supervision", "43-1011.00", "Operations Supervisor", "运营主管", "operations", 125_000, 0.50,
           ("SK-XLS",)),
    Family("accounting", "13-2011.00", "Accountant", "会计师", "corporate", 125_000, 0.64,
           ("SK-SAP", "SK-XLS")),
    Family("financial_analysis", "13-2031.00", "Financial Analyst", "财务分析师", "corporate", 150_000, 0.50,
           ("SK-XLS", "SK-SQL")),
    Family("hr", "13-1071.00", "HR Specialist", "人力资源专员", "corporate", 105_000, 0.72,
           ("SK-XLS",)),
)
MANAGEMENT = Family("management", "11-1021.00", "General Manager", "总经理", "leadership", 260_000, 0.40,
                    ("SK-XLS",))
DIVISION_TYPES = ("commercial", "technology", "operations", "corporate")
DIVISION_NAMES = {"commercial": ("Commercial", "商业"), "technology": ("Technology", "技术"),
                  "operations": ("Operations", "运营"), "corporate": ("Corporate Services", "职能")}
LEVEL_PREFIX = {1: ("Junior", "初级"), 2: ("", ""), 3: ("Senior", "高级"), 4: ("Lead", "资深"), 5: ("Principal", "首席")}
MANAGEMENT_TITLES = {3: ("Department Manager", "部门经理"), 4: ("Division Director", "事业部总监"),
                     5: ("Chief Executive Officer", "首席执行官")}
BASIC_PER_JOB = 8
LEVEL_PAY_STEP = 1.28
BAND_HALF_WIDTH = 0.2


@dataclass(frozen=True)
class Taxonomy:
    """The static reference tables and their index arrays (rows of ``jobs`` and ``skills`` are indices)."""

    skills: pd.DataFrame
    skill_aliases: pd.DataFrame
    jobs: pd.DataFrame  # feed columns plus family_idx
    requirements: pd.DataFrame  # job_idx, skill_idx, required_level, importance
    req_skills: np.ndarray  # (n_jobs, max_req) skill index, -1 padded
    req_levels: np.ndarray  # (n_jobs, max_req) required level, 0 padded
    families: tuple[Family, ...]

    @property
    def n_skills(self) -> int:
        return len(self.skills)


def read_onet_subset(path: Path = ONET_SUBSET) -> pd.DataFrame:
    """The committed O*NET extract (comment line with the attribution skipped)."""
    return pd.read_csv(path, comment="#", dtype={"onet_code": str, "skill_key": str})


def build_taxonomy(onet: pd.DataFrame | None = None) -> Taxonomy:
    """Skills, aliases, jobs (families × levels plus management) and job skill requirements."""
    onet = read_onet_subset() if onet is None else onet
    names = onet.drop_duplicates("skill_name").set_index("skill_name")
    missing = set(SKILL_NAMES) - set(names.index)
    if missing:
        raise ValueError(f"onet_subset.csv lacks skills {sorted(missing)}")
    skills = pd.DataFrame([
        {"skill_id": sid, "name_en": en if names.loc[en, "category"] != "technology" else en.replace(" software", ""),
         "name_zh": zh, "category": names.loc[en, "category"], "onet_element": names.loc[en, "skill_key"]}
        for en, (sid, zh, _code, _al) in SKILL_NAMES.items()
    ])
    aliases = [(a, sid) for _en, (sid, _zh, _c, al) in SKILL_NAMES.items() for a in al]
    skill_aliases = pd.DataFrame(aliases, columns=["alias", "skill_id"])
    if skill_aliases["alias"].duplicated().any():
        raise ValueError("skill aliases must be unique")
    skill_idx = {sid: i for i, sid in enumerate(skills["skill_id"])}
    name_to_id = {en: v[0] for en, v in SKILL_NAMES.items()}

    families = (*FAMILIES, MANAGEMENT)
    job_rows, req_rows = [], []
    for f_idx, fam in enumerate(families):
        occ = onet[onet["onet_code"] == fam.onet_code]
        basic = occ[(occ["category"] != "technology") & (occ["importance"] >= 3.0)]
        basic = basic.sort_values(["importance", "skill_key"], ascending=[False, True]).head(BASIC_PER_JOB)
        listed = set(occ.loc[occ["category"] == "technology", "skill_name"].map(name_to_id))
        techs = [t for t in fam.technologies if t in listed][:2] or [fam.technologies[0]]
        levels = (3, 4, 5) if fam is MANAGEMENT else (1, 2, 3, 4, 5)
        for level in levels:
            job_id = f"J-{fam.family.upper()}-{level}"
            if fam is MANAGEMENT:
                title_en, title_zh = MANAGEMENT_TITLES[level]
            else:
                pre_en, pre_zh = LEVEL_PREFIX[level]
                title_en, title_zh = f"{pre_en} {fam.title_en}".strip(), f"{pre_zh}{fam.title_zh}"
            mid = round(fam.pay_mid_l1 * LEVEL_PAY_STEP ** (level - levels[0]), -3)
            nxt = f"J-{fam.family.upper()}-{level + 1}" if level < 5 else None
            job_rows.append({"job_id": job_id, "title_en": title_en, "title_zh": title_zh, "family": fam.family,
                             "level": level, "onet_code": fam.onet_code,
                             "pay_band_min": mid * (1 - BAND_HALF_WIDTH), "pay_band_mid": mid,
                             "pay_band_max": mid * (1 + BAND_HALF_WIDTH), "next_job_id": nxt,
                             "family_idx": f_idx})
            shift = (level - 3) * 0.5
            for _, r in basic.iterrows():
                base = 1 + float(r["level"]) / 7 * 4
                req_rows.append((len(job_rows) - 1, skill_idx[name_to_id[r["skill_name"]]],
                                 int(np.clip(round(base + shift), 1, 5)), round(float(r["importance"]), 2)))
            for t in techs:
                req_rows.append((len(job_rows) - 1, skill_idx[t], int(np.clip(round(3 + shift), 1, 5)), 3.5))
    jobs = pd.DataFrame(job_rows)
    requirements = pd.DataFrame(req_rows, columns=["job_idx", "skill_idx", "required_level", "importance"])
    n_jobs, max_req = len(jobs), int(requirements.groupby("job_idx").size().max())
    req_skills = np.full((n_jobs, max_req), -1, dtype=np.int32)
    req_levels = np.zeros((n_jobs, max_req), dtype=np.float32)
    for j, g in requirements.groupby("job_idx"):
        req_skills[j, : len(g)] = g["skill_idx"].to_numpy()
        req_levels[j, : len(g)] = g["required_level"].to_numpy()
    return Taxonomy(skills, skill_aliases, jobs, requirements, req_skills, req_levels, families)


def requirement_table(tax: Taxonomy) -> pd.DataFrame:
    """``job_skill_requirements`` in contract columns."""
    r = tax.requirements
    return pd.DataFrame({"job_id": tax.jobs["job_id"].to_numpy()[r["job_idx"]],
                         "skill_id": tax.skills["skill_id"].to_numpy()[r["skill_idx"]],
                         "required_level": r["required_level"].astype("int64"),
                         "importance": r["importance"].astype(float)})
