"""Baselines for the course ranker, scored on the same candidate rows as the model.

- ``popularity_within_job``: how many people in the employee's job took the course in the last 12 months
  (``peers_taken_12m``), ties broken by all-time completions in the job.
- ``rule_based``: the course teaching the employee's largest gap (``max_gap_covered``), ties broken by the
  course's number of takers: what an L&D admin's rule would do.
- ``ItemCooccurrence``: implicit-feedback collaborative filtering, item-item cosine similarity of
  enrolments before the origin; an employee's score for a course is the summed similarity to the courses
  they enrolled in before. Employees without history fall back to the course's popularity.

Every function returns a score array aligned to the rows of the frame (higher ranks first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise ValueError(f"frame is missing column {col!r}")
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _lexicographic(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """One score ordering rows by ``primary`` then ``secondary`` (both descending)."""
    p = pd.Series(np.nan_to_num(primary, nan=-np.inf)).rank(method="dense").to_numpy()
    s = pd.Series(np.nan_to_num(secondary, nan=-np.inf)).rank(method="dense").to_numpy()
    return p * (s.max(initial=0) + 1) + s


def popularity_within_job(frame: pd.DataFrame) -> np.ndarray:
    """Score = takers in the employee's job in the last 12 months, then all-time completions in the job."""
    return _lexicographic(_num(frame, "peers_taken_12m"), _num(frame, "peers_completed_total"))


def rule_based(frame: pd.DataFrame) -> np.ndarray:
    """Score = largest gap the course covers, then its number of takers."""
    return _lexicographic(_num(frame, "max_gap_covered"), _num(frame, "takers_total"))


class ItemCooccurrence:
    """Item-item cosine similarity from implicit feedback (who enrolled in what)."""

    def __init__(self, min_support: int = 2):
        self.min_support = min_support

    def fit(self, history: pd.DataFrame) -> ItemCooccurrence:
        """``history``: (employee_id, course_id) enrolments before the origin."""
        for col in ("employee_id", "course_id"):
            if col not in history.columns:
                raise ValueError(f"history is missing column {col!r}")
        h = history[["employee_id", "course_id"]].astype(object).drop_duplicates()
        self.items_ = pd.Index(sorted(h["course_id"].unique()))
        self.users_ = pd.Index(sorted(h["employee_id"].unique()))
        A = np.zeros((len(self.users_), len(self.items_)), dtype=np.float32)
        A[self.users_.get_indexer(h["employee_id"]), self.items_.get_indexer(h["course_id"])] = 1.0
        co = A.T @ A
        co[co < self.min_support] = 0.0
        norm = np.sqrt(np.diag(co).copy())
        norm[norm == 0] = 1.0
        sim = co / norm[:, None] / norm[None, :]
        np.fill_diagonal(sim, 0.0)
        self.similarity_ = sim
        self.user_items_ = A
        self.popularity_ = A.sum(axis=0)
        return self

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Summed similarity of each row's course to the employee's past courses; popularity breaks ties."""
        if not hasattr(self, "similarity_"):
            raise RuntimeError("ItemCooccurrence is not fitted; call fit first")
        u = self.users_.get_indexer(frame["employee_id"].astype(object))
        i = self.items_.get_indexer(frame["course_id"].astype(object))
        out = np.zeros(len(frame))
        known = (u >= 0) & (i >= 0)
        if known.any():
            profile = self.user_items_[u[known]]  # rows × items
            out[known] = np.einsum("ri,ri->r", profile, self.similarity_[:, i[known]].T)
        pop = np.where(i >= 0, self.popularity_[np.maximum(i, 0)], 0.0)
        return out + 1e-6 * pop / max(float(pop.max(initial=0)), 1.0)
