"""Baselines for the attrition model, scored on the same folds and composed to horizons the same way.

- ``LogisticHazard``: logistic regression on the same features (+ months ahead) as a discrete-time hazard.
- ``TenureKaplanMeier``: the monthly exit hazard by tenure month alone, estimated from the training rows as
  exits / at-risk per tenure month (the discrete-time Kaplan-Meier estimator with late entry);
  P(exit within h | tenure t) = 1 - prod_{k<h} (1 - hazard(t + k)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MONTHS_AHEAD = "months_ahead"


class LogisticHazard:
    def __init__(self, categorical: tuple[str, ...] = ("job_family",), C: float = 1.0):
        self.categorical = categorical
        self.C = C

    def fit(self, rows: pd.DataFrame, feature_columns: list[str]) -> LogisticHazard:
        self.cat_ = [c for c in feature_columns if c in self.categorical]
        self.num_ = [c for c in feature_columns if c not in self.categorical] + [MONTHS_AHEAD]
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), self.num_),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
             self.cat_),
        ])
        self.pipe_ = make_pipeline(pre, LogisticRegression(C=self.C, max_iter=2000))
        weight = rows["weight"].to_numpy(dtype=float) if "weight" in rows.columns else None
        self.pipe_.fit(self._frame(rows), rows["label"].to_numpy(), logisticregression__sample_weight=weight)
        return self

    def _frame(self, df: pd.DataFrame) -> pd.DataFrame:
        X = df[self.num_[:-1]].apply(pd.to_numeric, errors="coerce").astype(float)
        for c in self.cat_:
            X[c] = df[c].astype(object).where(df[c].notna(), np.nan)
        X[MONTHS_AHEAD] = df[MONTHS_AHEAD].to_numpy() if MONTHS_AHEAD in df else 0
        return X

    def predict_risk(self, df: pd.DataFrame, horizons: tuple[int, ...]) -> np.ndarray:
        n, H = len(df), max(horizons)
        base = self._frame(df.assign(**{MONTHS_AHEAD: 0}))
        stacked = pd.concat([base.assign(**{MONTHS_AHEAD: k}) for k in range(H)], ignore_index=True)
        q = self.pipe_.predict_proba(stacked)[:, 1].reshape(H, n).T
        surv = np.cumprod(1 - q, axis=1)
        return np.column_stack([1 - surv[:, h - 1] for h in horizons])


class TenureKaplanMeier:
    def __init__(self, max_tenure: int = 480, prior_strength: float = 5.0):
        self.max_tenure = max_tenure
        self.prior_strength = prior_strength

    def fit(self, rows: pd.DataFrame, feature_columns: list[str] | None = None) -> TenureKaplanMeier:
        if "tenure_months" not in rows.columns:
            raise ValueError("TenureKaplanMeier needs a 'tenure_months' column")
        if rows["tenure_months"].isna().any():
            raise ValueError("TenureKaplanMeier: tenure_months has missing values")
        tenure = np.clip(np.floor(rows["tenure_months"].to_numpy(dtype=float)) + rows[MONTHS_AHEAD].to_numpy(),
                         0, self.max_tenure).astype(int)
        w = rows["weight"].to_numpy(dtype=float) if "weight" in rows.columns else np.ones(len(rows))
        at_risk = np.bincount(tenure, weights=w, minlength=self.max_tenure + 1)
        events = np.bincount(tenure, weights=w * rows["label"].to_numpy(dtype=float), minlength=self.max_tenure + 1)
        overall = events.sum() / max(at_risk.sum(), 1.0)
        # shrink sparse tenure months towards the overall rate instead of reading 0/1 from a handful of people
        self.hazard_ = (events + self.prior_strength * overall) / (at_risk + self.prior_strength)
        return self

    def predict_risk(self, df: pd.DataFrame, horizons: tuple[int, ...]) -> np.ndarray:
        if df["tenure_months"].isna().any():
            raise ValueError("TenureKaplanMeier: tenure_months has missing values")
        t0 = np.floor(df["tenure_months"].to_numpy(dtype=float)).astype(int)
        H = max(horizons)
        idx = np.clip(t0[:, None] + np.arange(H)[None, :], 0, self.max_tenure)
        surv = np.cumprod(1 - self.hazard_[idx], axis=1)
        return np.column_stack([1 - surv[:, h - 1] for h in horizons])
