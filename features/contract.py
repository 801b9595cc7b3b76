"""The data contract: one declaration per table of the four feeds.

Everything that reads or writes a feed works from these declarations: the simulator writes them,
ingestion validates against them (see ``features.ingest``), ``docs/data-contract.md`` is generated
from them (``talentloop contract docs``) and a test keeps the two in step.

A feed lives in ``DIR/<feed>/<table>.<csv|parquet|xlsx>``. Dates are ISO ``YYYY-MM-DD`` unless a
mapping file declares other formats. Protected attributes are marked ``protected=True``: they are
kept for fairness audits and are never model features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "int", "float", "date", "bool"]

FEEDS: tuple[str, ...] = ("hr", "performance", "learning", "recruiting")
FILE_FORMATS: tuple[str, ...] = ("csv", "parquet", "xlsx")

EVENT_TYPES = ("hire", "promotion", "transfer", "pay_change", "manager_change", "termination")
TERMINATION_TYPES = ("voluntary", "involuntary")
UNIT_TYPES = ("company", "division", "department", "team")
COURSE_FORMATS = ("online", "workshop", "mentoring")
ENROLLMENT_SOURCES = ("assigned", "self", "mandatory", "recommended")
ENROLLMENT_STATUSES = ("enrolled", "in_progress", "completed", "dropped")
REQUISITION_REASONS = ("growth", "backfill")
CANDIDATE_SOURCES = ("referral", "job_board", "agency", "campus", "internal")
CANDIDATE_STAGES = ("applied", "screened", "interviewed", "offered", "hired", "rejected")
PLAN_STATUSES = ("accepted", "planned", "declined")
SEXES = ("female", "male", "other", "undisclosed")
MARITAL_STATUSES = ("single", "married", "divorced", "widowed", "undisclosed")


@dataclass(frozen=True)
class Col:
    """One column: its type, whether it may be empty, and the values or range it allows."""

    name: str
    kind: Kind
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    ge: float | None = None
    le: float | None = None
    ref: str | None = None  # "table.column" this column must match (referential check)
    protected: bool = False
    fallback: str | None = None  # column of the same table whose value fills an empty (or absent) value

    @property
    def optional(self) -> bool:
        """May be left out of the file: nullable, or filled from its fallback column."""
        return self.nullable or self.fallback is not None


@dataclass(frozen=True)
class Table:
    """One table of a feed: its columns, primary key and the column that dates each row."""

    name: str
    feed: str
    description: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    event_time: str | None = None
    optional: bool = False  # a feed without it is complete: its absence is not warned about


    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Col:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _t(name: str, feed: str, description: str, key: tuple[str, ...], event_time: str | None, *cols: Col,
       optional: bool = False) -> Table:
    return Table(name=name, feed=feed, description=description, columns=tuple(cols), key=key, event_time=event_time,
                 optional=optional)


TABLES: tuple[Table, ...] = (
    # ---------------------------------------------------------------- HR records
    _t("org_units", "hr", "The organisation tree: company → divisions → departments → teams.",
       ("org_unit_id",), None,
       Col("org_unit_id", "str", "Org unit id."),
       Col("parent_id", "str", "Parent unit; empty for the root.", nullable=True, ref="org_units.org_unit_id"),
       Col("name_en", "str", "Unit name in English."),
       Col("name_zh", "str", "Unit name in Chinese; the English name when empty.", fallback="name_en"),
       Col("unit_type", "str", "Level in the tree.", allowed=UNIT_TYPES)),
    _t("jobs", "hr", "Jobs with family, level, pay band and the next job on the career path.",
       ("job_id",), None,
       Col("job_id", "str", "Job id."),
       Col("title_en", "str", "Job title in English."),
       Col("title_zh", "str", "Job title in Chinese; the English title when empty.", fallback="title_en"),
       Col("family", "str", "Job family (e.g. sales, engineering).", nullable=True),
       Col("level", "int", "Job level, 1 (entry) to 5 (lead).", nullable=True, ge=1, le=5),
       Col("onet_code", "str", "O*NET-SOC occupation the job is grounded in.", nullable=True),
       Col("pay_band_min", "float", "Pay band minimum, yearly base pay.", nullable=True, ge=0),
       Col("pay_band_mid", "float", "Pay band midpoint.", nullable=True, ge=0),
       Col("pay_band_max", "float", "Pay band maximum.", nullable=True, ge=0),
       Col("next_job_id", "str", "Next job on the career path; empty at the top.", nullable=True, ref="jobs.job_id")),
    _t("job_skill_requirements", "hr", "Skills each job requires and at which level.",
       ("job_id", "skill_id"), None,
       Col("job_id", "str", "Job.", ref="jobs.job_id"),
       Col("skill_id", "str", "Skill.", ref="skills.skill_id"),
       Col("required_level", "int", "Required proficiency, 1-5.", ge=1, le=5),
       Col("importance", "float", "Importance of the skill for the job, 1-5 (O*NET scale).", ge=1, le=5)),
    _t("employees", "hr", "One row per person ever employed. Protected attributes are for fairness audits only.",
       ("employee_id",), "hire_date",
       Col("employee_id", "str", "Employee id."),
       Col("hire_date", "date", "First day of employment."),
       Col("birth_year", "int", "Year of birth (protected: audit only).", nullable=True, ge=1940, le=2010, protected=True),
       Col("sex", "str", "Sex (protected: audit only).", nullable=True, allowed=SEXES, protected=True),
       Col("ethnicity", "str", "Ethnic group (protected: audit only).", nullable=True, protected=True),
       Col("marital_status", "str", "Marital status (protected: audit only).", nullable=True,
           allowed=MARITAL_STATUSES, protected=True),
       Col("nationality", "str", "Nationality (protected: audit only).", nullable=True, protected=True)),
    _t("employment_events", "hr", "Every change in a person's employment, each with the full state after it.",
       ("event_id",), "effective_date",
       Col("event_id", "str", "Event id."),
       Col("employee_id", "str", "Employee.", ref="employees.employee_id"),
       Col("effective_date", "date", "Date the change takes effect."),
       Col("event_type", "str", "What changed.", allowed=EVENT_TYPES),
       Col("org_unit_id", "str", "Org unit after the event.", ref="org_units.org_unit_id"),
       Col("job_id", "str", "Job after the event.", ref="jobs.job_id"),
       Col("manager_id", "str", "Manager after the event; empty for the top.", nullable=True),
       Col("base_pay", "float", "Yearly base pay after the event.", nullable=True, ge=0),
       Col("termination_type", "str", "For terminations only.", nullable=True, allowed=TERMINATION_TYPES),
       Col("reason", "str", "Free-text or coded reason.", nullable=True)),
    _t("headcount_plans", "hr", "Planned headcount per org unit and job per month (the business plan).",
       ("org_unit_id", "job_id", "plan_month"), "plan_month",
       Col("org_unit_id", "str", "Org unit.", ref="org_units.org_unit_id"),
       Col("job_id", "str", "Job.", ref="jobs.job_id"),
       Col("plan_month", "date", "First day of the planned month."),
       Col("planned_headcount", "int", "Planned heads in that job and unit.", ge=0)),
    # ---------------------------------------------------------------- performance
    _t("reviews", "performance", "Quarterly performance reviews.",
       ("employee_id", "cycle_id"), "review_date",
       Col("employee_id", "str", "Employee reviewed.", ref="employees.employee_id"),
       Col("cycle_id", "str", "Review cycle, e.g. 2024Q3; the review date when empty.", fallback="review_date"),
       Col("review_date", "date", "Date the review was signed off."),
       Col("reviewer_id", "str", "Reviewing manager.", nullable=True),
       Col("kpi_attainment", "float", "KPI attainment as a fraction of target (1.0 = 100%).", nullable=True, ge=0,
           le=3),
       Col("overall_rating", "int", "Overall rating, 1-5.", ge=1, le=5)),
    _t("competency_ratings", "performance", "Competency rating per required skill at each review.",
       ("employee_id", "cycle_id", "skill_id"), "review_date",
       Col("employee_id", "str", "Employee reviewed.", ref="employees.employee_id"),
       Col("cycle_id", "str", "Review cycle; the review date when empty.", fallback="review_date"),
       Col("review_date", "date", "Date of the review."),
       Col("skill_id", "str", "Skill rated.", ref="skills.skill_id"),
       Col("rating", "int", "Competency rating, 1-5.", ge=1, le=5)),
    # ---------------------------------------------------------------- learning
    _t("skills", "learning", "Skill taxonomy, grounded in O*NET, in English and Chinese.",
       ("skill_id",), None,
       Col("skill_id", "str", "Skill id."),
       Col("name_en", "str", "Skill name in English."),
       Col("name_zh", "str", "Skill name in Chinese; the English name when empty.", fallback="name_en"),
       Col("category", "str", "Skill category (basic, social, technical, technology, ...)."),
       Col("onet_element", "str", "O*NET element id or technology name it derives from.", nullable=True)),
    _t("skill_aliases", "learning", "Other names a skill goes by in legacy exports.",
       ("alias",), None,
       Col("alias", "str", "The other name."),
       Col("skill_id", "str", "The skill it means.", ref="skills.skill_id")),
    _t("courses", "learning", "Course catalog.",
       ("course_id",), "created_at",
       Col("course_id", "str", "Course id."),
       Col("title_en", "str", "Title in English."),
       Col("title_zh", "str", "Title in Chinese; the English title when empty.", fallback="title_en"),
       Col("format", "str", "Delivery format.", allowed=COURSE_FORMATS),
       Col("hours", "float", "Learning hours.", ge=0, le=500),
       Col("level", "int", "Course level, 1-5.", ge=1, le=5),
       Col("cost", "float", "Cost per participant.", ge=0),
       Col("points", "int", "Training points (积分) awarded on completion.", ge=0),
       Col("mandatory", "bool", "Mandatory for every employee."),
       Col("created_at", "date", "Date the course entered the catalog.")),
    _t("course_aliases", "learning", "Other names a course goes by (abbreviations such as 销管 for 销售管理).",
       ("alias",), None,
       Col("alias", "str", "The other name."),
       Col("course_id", "str", "The course it means.", ref="courses.course_id")),
    _t("course_skills", "learning", "Skills each course teaches and the level it aims at.",
       ("course_id", "skill_id"), None,
       Col("course_id", "str", "Course.", ref="courses.course_id"),
       Col("skill_id", "str", "Skill taught.", ref="skills.skill_id"),
       Col("target_level", "int", "Level the course aims to bring a learner to, 1-5.", ge=1, le=5)),
    _t("enrollments", "learning", "Enrollments and their outcomes. course_id may hold a course alias in legacy exports.",
       ("enrollment_id",), "enrolled_at",
       Col("enrollment_id", "str", "Enrollment id."),
       Col("employee_id", "str", "Learner.", ref="employees.employee_id"),
       Col("course_id", "str", "Course (id, title or alias; resolved at ingest).", ref="courses.course_id"),
       Col("enrolled_at", "date", "Enrollment date."),
       Col("source", "str", "Why the person enrolled.", allowed=ENROLLMENT_SOURCES),
       Col("status", "str", "Latest status.", allowed=ENROLLMENT_STATUSES),
       Col("completed_at", "date", "Completion date; empty unless completed.", nullable=True),
       Col("exam_score", "float", "Final exam score 0-100; empty when no exam.", nullable=True, ge=0, le=100)),
    _t("points_ledger", "learning", "Training points (积分) earned and spent.",
       ("entry_id",), "date",
       Col("entry_id", "str", "Ledger entry id."),
       Col("employee_id", "str", "Employee.", ref="employees.employee_id"),
       Col("date", "date", "Date of the entry."),
       Col("points", "int", "Points; negative when spent."),
       Col("activity", "str", "What earned or spent them (course_completion, exam_bonus, redemption, ...).")),
    # ---------------------------------------------------------------- recruiting
    _t("requisitions", "recruiting", "Open and closed job requisitions.",
       ("requisition_id",), "opened_at",
       Col("requisition_id", "str", "Requisition id."),
       Col("org_unit_id", "str", "Hiring unit.", ref="org_units.org_unit_id"),
       Col("job_id", "str", "Job hired for.", ref="jobs.job_id"),
       Col("opened_at", "date", "Date opened."),
       Col("closed_at", "date", "Date filled or cancelled; empty while open.", nullable=True),
       Col("reason", "str", "Why the position is open.", nullable=True, allowed=REQUISITION_REASONS)),
    _t("requisition_skills", "recruiting", "Skills a requisition asks for.",
       ("requisition_id", "skill_id"), None,
       Col("requisition_id", "str", "Requisition.", ref="requisitions.requisition_id"),
       Col("skill_id", "str", "Skill.", ref="skills.skill_id"),
       Col("required_level", "int", "Level asked for, 1-5.", ge=1, le=5)),
    _t("candidates", "recruiting", "Candidates per requisition and how far they got.",
       ("candidate_id",), "applied_at",
       Col("candidate_id", "str", "Candidate id."),
       Col("requisition_id", "str", "Requisition applied to.", ref="requisitions.requisition_id"),
       Col("applied_at", "date", "Application date."),
       Col("source", "str", "Sourcing channel.", allowed=CANDIDATE_SOURCES),
       Col("stage", "str", "Furthest stage reached.", allowed=CANDIDATE_STAGES),
       Col("hired_employee_id", "str", "Employee id when hired.", nullable=True, ref="employees.employee_id")),
    _t("assessments", "recruiting", "Pre-hire skill assessments.",
       ("candidate_id", "skill_id"), "assessed_at",
       Col("candidate_id", "str", "Candidate.", ref="candidates.candidate_id"),
       Col("skill_id", "str", "Skill assessed.", ref="skills.skill_id"),
       Col("score", "float", "Assessed level on the 1-5 competency scale.", ge=1, le=5),
       Col("assessed_at", "date", "Assessment date.")),
    # ---------------------------------------------------------------- learning, optional (declared last: a
    # simulation without it writes, and dirties, every other table exactly as before it existed)
    _t("learning_plans", "learning",
       "Optional. Courses an HR suite's learning-plan flow showed employees (one row per course shown) and what "
       "each employee did with it; loaded into the recommendation log for off-policy evaluation "
       "(docs/learning-plans.md).",
       ("request_id", "course_id"), "served_at",
       Col("request_id", "str", "The list shown (one request of the learning-plan flow)."),
       Col("employee_id", "str", "Employee shown the list.", ref="employees.employee_id"),
       Col("course_id", "str", "Course shown.", ref="courses.course_id"),
       Col("rank", "int", "Position in the list shown, 1 = first.", ge=1, le=100),
       Col("score", "float", "The showing policy's score of the course.", nullable=True),
       Col("propensity", "float", "Probability the showing policy had of putting this course in this list "
           "(1 when lists are never randomised).", ge=0.000001, le=1),
       Col("policy", "str", "The policy or model version that chose the list."),
       Col("explored", "bool", "Whether the list was randomised (drawn among the policy's top candidates).",
           nullable=True),
       Col("exploration_share", "float", "Share of the policy's lists that were randomised.", nullable=True,
           ge=0, le=1),
       Col("served_at", "date", "Date the list was shown."),
       Col("status", "str", "What the employee did with the course; empty when nothing was recorded.",
           nullable=True, allowed=PLAN_STATUSES),
       optional=True),
)

CONTRACT: dict[str, Table] = {t.name: t for t in TABLES}

# What attrition cannot do without: the people, their employment events and the units and jobs those events
# name. Every other table (and every nullable column) only adds features; without it they are absent.
ATTRITION_TABLES: tuple[str, ...] = ("org_units", "jobs", "employees", "employment_events")

PROTECTED_ATTRIBUTES: tuple[str, ...] = tuple(
    c.name for t in TABLES for c in t.columns if c.protected
)


def tables_of(feed: str) -> list[Table]:
    """The tables of one feed, in declaration order."""
    if feed not in FEEDS:
        raise KeyError(f"unknown feed {feed!r}; feeds are {', '.join(FEEDS)}")
    return [t for t in TABLES if t.feed == feed]


def dependency_order() -> list[Table]:
    """Tables ordered so that every referenced table comes before the tables that reference it."""
    done: list[str] = []
    pending = list(TABLES)
    while pending:
        progressed = False
        for t in list(pending):
            needs = {c.ref.split(".")[0] for c in t.columns if c.ref} - {t.name}
            if needs <= set(done):
                done.append(t.name)
                pending.remove(t)
                progressed = True
        if not progressed:  # pragma: no cover - the declaration above has no cycles
            raise RuntimeError(f"reference cycle among {[t.name for t in pending]}")
    return [CONTRACT[n] for n in done]
