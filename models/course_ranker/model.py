"""CourseRanker: LightGBM LambdaRank over (employee, course) candidates, with constraints and reasons.

Input is the frame of the Feast feature service ``course_ranker_v1`` (one row per candidate course, the
employee's features repeated on every row). ``recommend`` and ``explain`` also take it as a mapping of
column → numpy array (see ``frames``), which is how serving passes one employee's candidates. The model
reads only behavioural columns: no ids, no job or org unit codes and never a protected attribute. The
employee's aggregate gap columns (``mean_skill_gap``, ``max_skill_gap``, ``n_skills_below_required``) are
constant within a query, so they could act only through interactions, which would let a larger gap on one
skill reshuffle unrelated courses: they are left out, and the pair gap columns are monotone increasing, so a
larger gap on a skill never lowers the rank of the course that teaches it (all else equal).

Cold start: new hires carry their pre-hire assessment gaps in ``skill_gaps`` already. New courses have no
takers: their ``avg_rating_change`` and ``completion_rate`` are shrunk towards the catalogue prior learned
at fit time (empirical Bayes: the strength σ²/τ² is estimated from the courses' spread, see
``fitting.empirical_bayes``; a number for ``prior_strength`` fixes it) and a ``has_takers`` flag is a
feature, so "no takers yet" is a prior, not a hard penalty.

Score (``docs/course-ranker.md`` has the reasoning and the measurements):

    (expected_gain − gain_center_) / gain_scale_ + effect_weight × avg_rating_change
    + tree_weight × (trees / tree_scale_ if the course covers a gap of the current job, else tree_floor_ / tree_scale_)

``expected_gain`` = min(takers' improvement (shrunk, ≥ 0) × gap skills covered, gap covered) is the uplift
estimate. ``trees`` is LightGBM LambdaRank on the graded labels, which reward uptake as much as improvement
(enrollment bias, see ``labels``), so it only refines the order (weight 0.25 of its spread, chosen on
another company and an earlier origin). Courses covering no gap of the current job get the trees' lowest
possible output: they follow, ordered by takers' improvement, and a gap appearing never lowers a score.
Counts of takers (``takers_*``, ``peers_*``) are left out by default (``popularity_features=False``): they
let the trees re-learn who chose what. The uplift terms are added to the ``expected_gain`` and
``avg_rating_change`` contributions and the tree term is scaled, so base + contributions equals the score.
Inverse-propensity weighting (``propensity_weighting``) measured worse and is off.

Length (over 450 lines): one estimator class whose fit, scoring, recommendation and explanation share its
fitted state; frame access (``frames``), fitting helpers (``fitting``), the top-k selection (``selection``)
and the reasons (``reasons``) are already modules of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from features.contract import COURSE_FORMATS
from features.feature_repo.services import COURSE_RANKER_SERVICE
from models.course_ranker import fitting, frames
from models.course_ranker import reasons as R
from models.course_ranker.candidates import addressed_skills, gap_skills
from models.course_ranker.selection import Limits, placed_by, select_top_k
from models.explanation import LANGS, Explanation, explain_values, tree_contributions

FEATURE_SERVICE = COURSE_RANKER_SERVICE  # the default; the training job passes its service
EMPLOYEE_COLUMNS = (
    "job_level", "tenure_months", "last_rating", "rating_trend", "training_hours_3m", "training_hours_12m",
    "training_points_12m", "completions_12m", "enrollments_in_progress", "online_share_12m",
    "workshop_share_12m", "mentoring_share_12m",
)
COURSE_COLUMNS = (
    "hours", "level", "cost", "points", "mandatory", "course_age_months", "takers_12m", "takers_total",
    "completion_rate", "avg_rating_change", "avg_exam_score",
)
PAIR_COLUMNS = (
    "gap_match", "max_gap_covered", "n_gap_skills_covered", "level_fit", "format_affinity",
    "peers_taken_12m", "peers_completed_total",
)
MONOTONE_INCREASING = (*R.GAP_COLUMNS, "expected_gain", "avg_rating_change")
COUNT_COLUMNS = ("takers_12m", "takers_total", "peers_taken_12m", "peers_completed_total")  # missing means none
POPULARITY_COLUMNS = ("takers_12m", "takers_total", "peers_taken_12m", "peers_completed_total")
MODEL_COLUMNS = (*EMPLOYEE_COLUMNS, *R.FORMAT_COLUMNS, *COURSE_COLUMNS, "has_takers", *PAIR_COLUMNS, "expected_gain")
INPUT_COLUMNS = (*EMPLOYEE_COLUMNS, "format", *COURSE_COLUMNS, *PAIR_COLUMNS)
NUMERIC_INPUTS = (*EMPLOYEE_COLUMNS, *COURSE_COLUMNS, *PAIR_COLUMNS)
RECOMMENDATION_COLUMNS = ("course_id", "score", "rank", "skills_addressed", "mandatory", "format", "hours", "cost",
                          "placed_by")
EXPLAIN_COLUMNS = frozenset((*INPUT_COLUMNS, "course_id", "skill_ids", "skill_gaps", "skill_required_levels",
                             "course_skill_ids"))


class CourseRanker:
    """Rank candidate courses for an employee; ``fit`` on graded labels, query = (employee, origin)."""

    feature_service_ = FEATURE_SERVICE  # models pickled before ``feature_service`` was a parameter

    def __init__(
        self,
        n_estimators: int = 200,
        num_leaves: int = 15,
        learning_rate: float = 0.05,
        min_child_samples: int = 20,
        early_stopping_rounds: int = 50,
        valid_fraction: float = 0.2,
        monotone: bool = True,
        prior_strength: float | None = None,
        label_gain: Sequence[float] = (0.0, 1.0, 3.0, 7.0),
        popularity_features: bool = False,
        exclude_columns: Sequence[str] = (),
        tree_weight: float = 0.25,
        effect_weight: float = 0.01,
        propensity_weighting: bool = False,
        max_weight: float = 10.0,
        refit: bool = True,
        n_jobs: int = 2,
        random_state: int = 0,
        feature_service: str = FEATURE_SERVICE,
    ):
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.early_stopping_rounds = early_stopping_rounds
        self.valid_fraction = valid_fraction
        self.monotone = monotone
        self.prior_strength = prior_strength
        self.label_gain = label_gain
        self.popularity_features = popularity_features
        self.exclude_columns = exclude_columns
        self.tree_weight = tree_weight
        self.effect_weight = effect_weight
        self.propensity_weighting = propensity_weighting
        self.max_weight = max_weight
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.feature_service = feature_service

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame, y: Sequence[float] | None = None, *, label_col: str = "label",
            query_cols: Sequence[str] = ("employee_id", "event_timestamp"),
            time_col: str = "event_timestamp") -> CourseRanker:
        """Fit on candidate rows; the latest ``valid_fraction`` of origins (``time_col``) drive early stopping."""
        import lightgbm as lgb

        self._check_params()
        self.feature_service_ = self.feature_service
        frames.require(df, [*INPUT_COLUMNS, *query_cols, time_col, *(["course_id"] if self.propensity_weighting else [])],
                 "df")
        labels = np.asarray(df[label_col] if y is None else y, dtype=float)
        if len(labels) != len(df):
            raise ValueError(f"y has {len(labels)} values for {len(df)} rows")
        if not np.isin(labels, [0, 1, 2, 3]).all():
            raise ValueError("labels must be graded 0, 1, 2 or 3")
        data = df.assign(_y=labels)
        data = data.sort_values([time_col, *query_cols], kind="mergesort").reset_index(drop=True)
        qid = data.groupby(list(query_cols), sort=False).ngroup().to_numpy()
        is_pos = data["_y"].to_numpy() > 0
        if not is_pos.any():
            raise ValueError("no query has a positive label; nothing to learn a ranking from")
        keep = pd.Series(is_pos).groupby(qid).transform("any").to_numpy()  # all-zero queries teach nothing
        data, qid = data[keep].reset_index(drop=True), qid[keep]
        self._fit_priors(data, time_col)
        inputs = self._inputs(data)
        X = self._frame(inputs, data.index)
        gain = inputs["expected_gain"]
        self.gain_center_ = float(np.mean(gain))
        self.gain_scale_ = float(np.std(gain)) if np.std(gain) > 1e-9 else 1.0
        y_all = data["_y"].to_numpy()
        w_all = (fitting.propensity_weights(data["course_id"].astype(str).to_numpy(), y_all, self.max_weight)
                 if self.propensity_weighting else np.ones(len(y_all)))
        times = pd.Index(data[time_col].unique()).sort_values()
        n_valid = int(np.ceil(len(times) * self.valid_fraction)) if len(times) > 1 else 0
        is_valid = data[time_col].isin(times[len(times) - n_valid:]).to_numpy() if n_valid else np.zeros(len(X), bool)
        params = self._lgb_params()
        train = lgb.Dataset(X[~is_valid], y_all[~is_valid], weight=w_all[~is_valid],
                            group=fitting.group_sizes(qid[~is_valid]), free_raw_data=False)
        if is_valid.any():
            valid = lgb.Dataset(X[is_valid], y_all[is_valid], weight=w_all[is_valid],
                                group=fitting.group_sizes(qid[is_valid]), reference=train)
            feval = fitting.weighted_ndcg(qid[is_valid], w_all[is_valid], np.asarray(self.label_gain, float))
            booster = lgb.train(params, train, self.n_estimators, valid_sets=[valid], feval=feval,
                                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)])
            self.best_iteration_ = int(booster.best_iteration or self.n_estimators)
            self.valid_ndcg_ = float(booster.best_score["valid_0"]["weighted_ndcg@10"])
            if self.refit:
                full = lgb.Dataset(X, y_all, weight=w_all, group=fitting.group_sizes(qid))
                booster = lgb.train(params, full, self.best_iteration_)
        else:
            self.best_iteration_, self.valid_ndcg_ = self.n_estimators, float("nan")
            booster = lgb.train(params, train, self.n_estimators)
        self.booster_ = booster
        self.columns_ = self._model_columns()
        raw = booster.predict(X.to_numpy(dtype=float), raw_score=True, num_threads=self.n_jobs)
        self.tree_scale_ = float(np.std(raw)) if np.std(raw) > 1e-9 else 1.0
        self.tree_floor_ = fitting.lowest_output(booster)
        self.gated_ = True
        self.input_columns_ = list(INPUT_COLUMNS)
        self.n_train_rows_, self.n_train_queries_ = len(X), int(len(np.unique(qid)))
        return self

    def _check_params(self) -> None:
        for name in ("n_estimators", "num_leaves", "min_child_samples", "early_stopping_rounds", "n_jobs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.valid_fraction < 1:
            raise ValueError(f"valid_fraction must be in [0, 1), got {self.valid_fraction!r}")
        unknown = set(self.exclude_columns) - set(MODEL_COLUMNS)
        if unknown:
            raise ValueError(f"exclude_columns names unknown column(s) {sorted(unknown)}")
        if "expected_gain" in set(self.exclude_columns):
            raise ValueError("expected_gain is the uplift term of the score and cannot be excluded")
        for name in ("tree_weight", "effect_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if len(self.label_gain) < 4 or any(g < 0 for g in self.label_gain):
            raise ValueError(f"label_gain needs 4 non-negative gains (labels 0-3), got {self.label_gain!r}")
        if self.max_weight < 1:
            raise ValueError(f"max_weight must be >= 1, got {self.max_weight!r}")
        if self.prior_strength is not None and not self.prior_strength >= 0:
            raise ValueError(f"prior_strength must be >= 0 or None (empirical Bayes), got {self.prior_strength!r}")

    def _lgb_params(self) -> dict:
        mono = [1 if (self.monotone and c in MONOTONE_INCREASING) else 0 for c in self._model_columns()]
        return {
            "objective": "lambdarank", "metric": "None", "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate, "min_data_in_leaf": self.min_child_samples,
            "monotone_constraints": mono, "label_gain": [float(g) for g in self.label_gain], "num_threads": self.n_jobs, "seed": self.random_state,
            "deterministic": True, "force_col_wise": True, "verbosity": -1,
        }

    def _fit_priors(self, data: pd.DataFrame, time_col: str = "event_timestamp") -> None:
        """Catalogue priors for courses without takers, and the shrinkage of takers' averages towards them."""
        courses = data.drop_duplicates("course_id") if "course_id" in data else data
        n = pd.to_numeric(courses["takers_total"], errors="coerce").fillna(0).to_numpy(float)
        priors = {}
        for col, default in (("avg_rating_change", 0.0), ("completion_rate", 0.5), ("avg_exam_score", 70.0)):
            v = pd.to_numeric(courses[col], errors="coerce").to_numpy(float)
            ok = (n > 0) & np.isfinite(v)
            priors[col] = float(np.average(v[ok], weights=n[ok])) if ok.any() else default
        self.eb_ = None
        if self.prior_strength is None:
            keys = [c for c in ("course_id", time_col) if c in data]
            rows = data.drop_duplicates(keys) if len(keys) == 2 else courses
            self.eb_ = fitting.empirical_bayes(pd.to_numeric(rows["avg_rating_change"], errors="coerce").to_numpy(float),
                                         pd.to_numeric(rows["takers_total"], errors="coerce").to_numpy(float))
        if self.eb_ is not None:
            priors["avg_rating_change"] = self.eb_["mean"]
            self.prior_strength_ = self.eb_["strength"]
        else:
            self.prior_strength_ = float(5.0 if self.prior_strength is None else self.prior_strength)
        self.priors_ = priors

    # ------------------------------------------------------------------ scoring
    def _matrix(self, df: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns (``columns_`` order) from a feature-service frame."""
        return self._frame(self._inputs(df), df.index)

    def _frame(self, out: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
        cols = self._model_columns()
        return pd.DataFrame(np.column_stack([out[c] for c in cols]), index=index, columns=cols)

    def _uplift(self, out: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The uplift terms of the score: (scaled expected gain, ``effect_weight`` × shrunk takers' improvement)."""
        return ((out["expected_gain"] - self.gain_center_) / self.gain_scale_,
                self.effect_weight * out["avg_rating_change"])

    def _gate(self, out: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (weight of the trees' output, constant standing in for it). Rows covering a gap of the
        current job get ``tree_weight / tree_scale_`` × trees; the others the trees' lowest possible output."""
        w = self.tree_weight / self.tree_scale_
        if not self.gated_:
            return np.full(len(out["gap_match"]), w), np.zeros(len(out["gap_match"]))
        covers = np.nan_to_num(out["gap_match"]) > 0
        return np.where(covers, w, 0.0), np.where(covers, 0.0, w * self.tree_floor_)

    def _inputs(self, df: frames.Frame) -> dict[str, np.ndarray]:
        """Every derived input column as an array.

        ``expected_gain`` = min(takers' improvement (shrunk, ≥ 0) × gap skills covered, gap covered): what
        the course would close if it did for this employee what it did for its takers.
        """
        frames.require(df, INPUT_COLUMNS, "df")
        block = frames.block(df, NUMERIC_INPUTS)
        out = {c: block[:, i] for i, c in enumerate(NUMERIC_INPUTS)}
        fmt = frames.column(df, "format").astype(object)
        for c, name in zip(R.FORMAT_COLUMNS, COURSE_FORMATS, strict=True):
            out[c] = (fmt == name).astype(float)
        n = np.nan_to_num(out["takers_total"], nan=0.0)
        m = float(self.prior_strength_)
        for c in ("avg_rating_change", "completion_rate"):
            p = self.priors_[c]
            out[c] = (n * np.nan_to_num(out[c], nan=p) + m * p) / np.maximum(n + m, 1e-9)
        out["avg_exam_score"] = np.where(np.isfinite(out["avg_exam_score"]), out["avg_exam_score"],
                                         self.priors_["avg_exam_score"])
        for c in COUNT_COLUMNS:
            out[c] = np.nan_to_num(out[c], nan=0.0)
        out["has_takers"] = (n > 0).astype(float)
        change = np.clip(out["avg_rating_change"], 0.0, None)
        out["expected_gain"] = np.minimum(change * np.nan_to_num(out["n_gap_skills_covered"]),
                                          np.nan_to_num(out["gap_match"]))
        return out

    def _model_columns(self) -> list[str]:
        drop = set(self.exclude_columns) | (set() if self.popularity_features else set(POPULARITY_COLUMNS))
        return [c for c in MODEL_COLUMNS if c not in drop]

    def score(self, df: frames.Frame) -> np.ndarray:
        """Raw ranking scores (higher ranks first) for each row."""
        self._check_fitted()
        return self._score(self._inputs(df))

    def _score(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        X = np.column_stack([inputs[c] for c in self._model_columns()])
        raw = self.booster_.predict(X, raw_score=True, num_threads=1 if len(X) < 5000 else self.n_jobs)
        gain, effect = self._uplift(inputs)
        w, floor = self._gate(inputs)
        return gain + effect + w * raw + floor

    def predict_frame(self, df: pd.DataFrame, **params) -> pd.DataFrame:
        """Scores per row for the pyfunc: id columns present in ``df``, ``score`` and ``rank`` per employee."""
        if params:
            raise ValueError(f"predict_frame takes no params, got {sorted(params)}")
        ids = [c for c in ("employee_id", "course_id") if c in df.columns]
        out = df[ids].reset_index(drop=True).copy()
        out["score"] = self.score(df)
        keys = out["employee_id"] if "employee_id" in out else pd.Series(0, index=out.index)
        out["rank"] = out["score"].groupby(keys).rank(ascending=False, method="first").astype(int)
        return out

    # ------------------------------------------------------------------ recommend
    def recommend(self, frame: frames.Frame, k: int = 10, formats: Iterable[str] | None = None,
                  max_hours: float | None = None, budget: float | None = None,
                  exclude: Iterable[str] | None = None, mandatory_first: bool = False,
                  diversify: bool = True) -> pd.DataFrame:
        """Top-k courses for one employee under constraints.

        ``formats``: allowed formats; ``max_hours``: total learning hours of the list; ``budget``: total
        cost of the list; ``exclude``: course ids never shown; ``mandatory_first``: mandatory courses lead;
        ``diversify``: no two of the top 3 address the same main skill (the largest gap a course covers).
        Returns course_id, score, rank, skills_addressed (gap skills the course teaches, largest gap first),
        mandatory, format, hours, cost.
        """
        limits = Limits(k, max_hours, budget, mandatory_first, diversify)
        chosen, _, _ = self._recommend(frame, limits, formats, exclude)
        return pd.DataFrame(chosen, columns=list(RECOMMENDATION_COLUMNS))

    def recommend_explained(self, frame: frames.Frame, k: int = 10, formats: Iterable[str] | None = None,
                            max_hours: float | None = None, budget: float | None = None, *, lang: str = "en",
                            top: int = 5, skill_names: Mapping[str, Mapping[str, str]] | None = None,
                            exclude: Iterable[str] | None = None, mandatory_first: bool = False,
                            diversify: bool = True) -> tuple[list[dict], list[Explanation]]:
        """:meth:`recommend` and :meth:`explain` of the courses chosen, in one pass over the inputs (what
        serving calls): the chosen courses as dicts (the columns of :meth:`recommend`) and their explanations,
        equal to ``explain(frame, course_ids=[chosen ids])``."""
        if lang not in LANGS:  # before any work: a bad language is the caller's error, not the model's
            raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
        limits = Limits(k, max_hours, budget, mandatory_first, diversify)
        chosen, inputs, idx = self._recommend(frame, limits, formats, exclude)
        if not len(idx):
            return [], []
        rows = frames.rows(frame, idx, EXPLAIN_COLUMNS)
        explained = self._explanations(rows, {c: v[idx] for c, v in inputs.items()}, lang, top, skill_names)
        return [dict(zip(chosen, values, strict=True)) for values in zip(*chosen.values(), strict=True)], explained

    def _recommend(self, frame: frames.Frame, limits: Limits, formats: Iterable[str] | None,
                   exclude: Iterable[str] | None) -> tuple[dict[str, list], dict[str, np.ndarray], np.ndarray]:
        """The chosen courses (column → list, in rank order), every row's model inputs, the chosen rows."""
        allowed = None if formats is None else set(formats)
        if allowed is not None and not allowed <= set(COURSE_FORMATS):
            raise ValueError(f"formats must be among {COURSE_FORMATS}, got {sorted(allowed)}")
        frames.require(frame, ("course_id", "skill_ids", "skill_gaps", "course_skill_ids"), "frame")
        if "employee_id" in frame and len(set(frames.column(frame, "employee_id"))) > 1:
            raise ValueError("frame must hold the candidates of one employee; use predict_frame for many")
        if frames.n_rows(frame) == 0:
            return {c: [] for c in RECOMMENDATION_COLUMNS}, {}, np.zeros(0, dtype=int)
        self._check_fitted()
        inputs = self._inputs(frame)
        scores = self._score(inputs)
        course = frames.column(frame, "course_id").astype(str).astype(object)
        hours = np.nan_to_num(frames.as_float(frames.column(frame, "hours")))
        cost = np.nan_to_num(frames.as_float(frames.column(frame, "cost")))
        mandatory = frames.as_bool(frames.column(frame, "mandatory"))
        fmt = frames.column(frame, "format").astype(object)
        ok = ~np.isin(course, list(exclude or ()))
        if "already_completed" in frame:
            ok &= ~frames.as_bool(frames.column(frame, "already_completed"))
        if allowed is not None:
            ok &= np.isin(fmt, list(allowed))
        gap = gap_skills(frames.column(frame, "skill_ids")[0], frames.column(frame, "skill_gaps")[0])  # one employee
        taught = frames.column(frame, "course_skill_ids")
        found: dict[int, list[str]] = {}

        def addressed(i: int) -> list[str]:  # only for the rows the selection looks at
            if i not in found:
                found[i] = addressed_skills(gap, taught[i])
            return found[i]

        idx = select_top_k(np.lexsort((course, -scores)), ok, mandatory, hours, cost,
                           lambda i: (addressed(i) or [None])[0], limits)
        out = {
            "course_id": course[idx].tolist(), "score": scores[idx].tolist(), "rank": list(range(1, len(idx) + 1)),
            "skills_addressed": [addressed(i) for i in idx], "mandatory": mandatory[idx].tolist(),
            "format": fmt[idx].tolist(), "hours": hours[idx].tolist(), "cost": cost[idx].tolist(),
            "placed_by": placed_by(scores[idx], mandatory[idx], limits.mandatory_first),
        }
        return out, inputs, idx

    # ------------------------------------------------------------------ explain
    def explain(self, frame: frames.Frame, lang: str = "en", top: int = 5,
                skill_names: Mapping[str, Mapping[str, str]] | None = None,
                course_ids: Sequence[str] | None = None) -> list[Explanation]:
        """Exact TreeSHAP per row (or per course in ``course_ids``, in that order), with reasons a person reads.

        Reasons lead with the gap the course addresses ("Negotiation 2/5, your job needs 4/5"), then how its
        takers improved and the format fit, then other drivers that raise the score. Additive:
        ``explanation.raw_score`` equals the row's score.
        """
        self._check_fitted()
        if course_ids is not None:
            pos = pd.Index(frames.column(frame, "course_id").astype(str)).get_indexer([str(c) for c in course_ids])
            if (pos < 0).any():
                missing = [c for c, p in zip(course_ids, pos, strict=True) if p < 0]
                raise ValueError(f"course_ids not in frame: {missing}")
            frame = frames.rows(frame, pos, EXPLAIN_COLUMNS)  # take only what is read: faster
        return self._explanations(frame, self._inputs(frame), lang, top, skill_names)

    def _explanations(self, frame: frames.Frame, inputs: dict[str, np.ndarray], lang: str, top: int,
                      skill_names: Mapping[str, Mapping[str, str]] | None) -> list[Explanation]:
        """Explanations of the rows of ``frame`` whose model inputs are ``inputs``.

        Rows the gate takes the trees off (no gap of the current job covered) have a tree term that does not
        depend on their values: base = the constant, contributions 0; TreeSHAP runs on the other rows only."""
        cols = self._model_columns()
        X = np.column_stack([inputs[c] for c in cols])
        w, floor = self._gate(inputs)
        base, contrib = floor.astype(float), np.zeros(X.shape)
        on = np.flatnonzero(w != 0)
        if len(on):
            tree_base, tree_contrib = self._tree_shap(X[on])
            base[on] = tree_base * w[on] + floor[on]
            contrib[on] = tree_contrib * w[on, None]
        gain, effect = self._uplift(inputs)  # the uplift terms are their own contributions
        contrib[:, self.columns_.index("expected_gain")] += gain
        col = "avg_rating_change" if "avg_rating_change" in self.columns_ else "expected_gain"
        contrib[:, self.columns_.index(col)] += effect
        found = explain_values(base, contrib, cols, X.astype(object), R.DRIVERS, lang=lang, top=top,
                               groups=R.GROUPS, direction=1)
        has_gaps = all(c in frame for c in ("skill_ids", "skill_gaps", "course_skill_ids"))
        gaps = R.gap_details(frame) if has_gaps else None
        fmt = frames.column(frame, "format").astype(object)
        raw_change = frames.as_float(frames.column(frame, "avg_rating_change"))
        takers = np.nan_to_num(frames.as_float(frames.column(frame, "takers_total")))
        affinity = frames.as_float(frames.column(frame, "format_affinity"))
        special = {"takers_improvement", "format", "format_affinity"} | ({"skill_gap"} if gaps is not None else set())
        out = []
        for r, e in enumerate(found):
            texts = []
            if gaps is not None:
                texts.append(R.gap_reason(gaps[r], lang, skill_names))
            change = None if takers[r] <= 0 or not np.isfinite(raw_change[r]) else float(raw_change[r])
            texts.append(R.DRIVERS["takers_improvement"].reason(change, lang))
            texts.append(R.format_reason(fmt[r], None if not np.isfinite(affinity[r]) else float(affinity[r]), lang))
            generic = [c for c in e.contributions if c.feature not in special and c.contribution > 0]
            texts += [R.DRIVERS[c.feature].reason(c.value, lang) for c in generic if c.feature in R.DRIVERS]
            reasons = list(dict.fromkeys(t for t in texts if t))
            out.append(Explanation(e.base_value, e.contributions, reasons, total=e.total))
        return out

    def _tree_shap(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The trees' exact TreeSHAP (base per row, contributions): per-leaf tables (``models.treeshap``,
        faster than LightGBM's ``pred_contrib`` on a request's rows) built on first use, or
        ``pred_contrib`` for a booster the tables do not take."""
        cached = self.__dict__.get("_shap_tables")
        if cached is None or cached[0] is not self.booster_:
            from models.treeshap import TreeTables

            try:
                tables = TreeTables(self.booster_)
            except ValueError:
                tables = None
            cached = self._shap_tables = (self.booster_, tables)
        if cached[1] is None:
            return tree_contributions(fitting.SingleThread(self.booster_), X)
        out = cached[1].contributions(X)
        return out[:, -1], out[:, :-1]

    def warm_up(self) -> None:
        """Build what explaining needs (TreeSHAP tables, the compiled kernel) before the first request."""
        self._check_fitted()
        self._tree_shap(np.zeros((1, len(self._model_columns()))))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_shap_tables", None)  # derived from the booster: rebuilt after loading
        return state

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a model fitted before the gated blend (boosted from ``prior_weight`` × expected gain)
        scores exactly as it did."""
        self.__dict__.update(fitting.legacy_state(state))

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise RuntimeError("CourseRanker is not fitted; call fit first")
