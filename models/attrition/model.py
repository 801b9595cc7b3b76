"""Attrition risk months ahead: a LightGBM discrete-time hazard composed into P(exit within h).

One model serves every horizon h = 1..12. It learns the monthly voluntary-exit hazard
``q(x_T, k) = P(leave in month T+k | still employed at T+k, features at T)`` with ``months_ahead = k`` as an
input, and composes ``P(exit within h) = 1 - prod_{k<h} (1 - q(x_T, k))``, so risk can only grow with h.

Calibration: a Platt map on the hazard's log-odds, fitted on the time-latest slice of the training rows
(those rows are held out from the trees, used for early stopping and calibration, and stored with the
model). One map for all k keeps probabilities monotone in h.

Explanations are exact TreeSHAP on the hazard's log-odds averaged over the months of the horizon: for each
row ``base + sum(contributions) == mean_k raw_score(x, k)`` (the quantity the composed risk is built from).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.attrition.reasons import DRIVERS, LEVERS
from models.explanation import Explanation, explain_rows, tree_contributions

HORIZONS = tuple(range(1, 13))
MONTHS_AHEAD = "months_ahead"


@dataclass(frozen=True)
class ThresholdPolicy:
    """When a risk becomes an alert: at ``horizon``, risk ≥ ``min_risk`` or in the top ``top_share`` of a unit."""

    horizon: int
    min_risk: float
    top_share: float


class AttritionModel:
    """sklearn-style: the constructor stores hyper-parameters; ``fit`` sets attributes ending in ``_``."""

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.06,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        calibration_months: int = 4,
        categorical: tuple[str, ...] = ("job_family",),
        feature_service: str = "attrition_v1",
        alert_top_share: float = 0.10,
        alert_horizon: int = 3,
        num_threads: int = 0,
        random_state: int = 0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.calibration_months = calibration_months
        self.categorical = categorical
        self.feature_service = feature_service
        self.alert_top_share = alert_top_share
        self.alert_horizon = alert_horizon
        self.num_threads = num_threads  # 0: OpenMP's default (OMP_NUM_THREADS, else every core)
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, rows: pd.DataFrame, feature_columns: list[str]) -> AttritionModel:
        """Fit on hazard rows: feature columns + ``months_ahead`` + ``label`` + ``event_timestamp``."""
        for col in ("label", MONTHS_AHEAD, "event_timestamp"):
            if col not in rows.columns:
                raise ValueError(f"rows must have a {col!r} column")
        missing = [c for c in feature_columns if c not in rows.columns]
        if missing:
            raise ValueError(f"rows lack feature columns {missing}")
        self.feature_service_ = self.feature_service
        self.feature_columns_ = list(feature_columns)
        self.columns_ = [*self.feature_columns_, MONTHS_AHEAD]
        self.categories_ = {
            c: sorted(rows[c].dropna().astype(str).unique().tolist()) for c in self.categorical if c in feature_columns
        }
        outcome = rows["event_timestamp"].dt.tz_convert(None).dt.to_period("M") + rows[MONTHS_AHEAD]
        cut = outcome.max() - self.calibration_months + 1
        late = (outcome >= cut).to_numpy()
        if late.all() or not late.any():
            raise ValueError("need more than calibration_months of outcome months to fit")
        X = self._matrix(rows)
        y = rows["label"].to_numpy()
        w = rows["weight"].to_numpy(dtype=float) if "weight" in rows.columns else np.ones(len(rows))
        params = {
            "objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples, "feature_fraction": 0.9, "bagging_fraction": 0.8,
            "bagging_freq": 1, "lambda_l2": 1.0, "seed": self.random_state, "verbose": -1, "num_threads": self.num_threads,
        }
        train = lgb.Dataset(X[~late], y[~late], weight=w[~late], categorical_feature=list(self.categories_) or "auto")
        valid = lgb.Dataset(X[late], y[late], weight=w[late], reference=train)
        self.booster_ = lgb.train(params, train, self.n_estimators, valid_sets=[valid],
                                  callbacks=[lgb.early_stopping(30, verbose=False)])
        raw = self.booster_.predict(X[late], raw_score=True)
        self.platt_ = _fit_platt(raw, y[late], w[late])
        self.training_rows_ = int(len(rows))
        self.data_window_ = (str(rows["event_timestamp"].min().date()), str(rows["event_timestamp"].max().date()))
        first_month = late & (rows[MONTHS_AHEAD] == 0).to_numpy()
        self.policy_ = self._policy(rows.loc[first_month], w[first_month])
        return self

    def _policy(self, late_snapshots: pd.DataFrame, weights: np.ndarray) -> ThresholdPolicy:
        """``min_risk``: the weighted (1 − top_share) quantile of risk on the latest snapshots."""
        if late_snapshots.empty:
            raise ValueError("no snapshot in the calibration slice to set the alert threshold from")
        risk = self.predict_risk(late_snapshots, horizons=(self.alert_horizon,))[:, 0]
        order = np.argsort(risk)
        cum = np.cumsum(weights[order]) / weights.sum()
        min_risk = float(risk[order][np.searchsorted(cum, 1 - self.alert_top_share)])
        return ThresholdPolicy(self.alert_horizon, round(min_risk, 4), self.alert_top_share)

    # ------------------------------------------------------------------ predict
    def _matrix(self, df: pd.DataFrame, months_ahead: int | None = None) -> pd.DataFrame:
        X = pd.DataFrame(index=range(len(df)))
        for c in self.feature_columns_:
            if c in getattr(self, "categories_", {}):
                X[c] = pd.Categorical(df[c].astype("string").to_numpy(), categories=self.categories_[c])
            else:
                X[c] = pd.to_numeric(df[c], errors="raise").astype("float64").to_numpy()
        X[MONTHS_AHEAD] = months_ahead if months_ahead is not None else df[MONTHS_AHEAD].to_numpy()
        return X

    def _hazards(self, df: pd.DataFrame, max_h: int) -> np.ndarray:
        """Calibrated monthly hazards, rows × max_h."""
        n = len(df)
        X = self._matrix(df, 0)
        stacked = pd.concat([X.assign(**{MONTHS_AHEAD: k}) for k in range(max_h)], ignore_index=True)
        raw = self.booster_.predict(stacked, raw_score=True).reshape(max_h, n).T
        return _sigmoid(self.platt_[0] * raw + self.platt_[1])

    def predict_risk(self, df: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> np.ndarray:
        """P(voluntary exit within h months) per row and horizon (rows × len(horizons))."""
        bad = [h for h in horizons if h not in HORIZONS]
        if bad:
            raise ValueError(f"horizon_months must be between 1 and 12, got {bad}")
        q = self._hazards(df, max(horizons))
        survival = np.cumprod(1.0 - q, axis=1)
        return np.column_stack([1.0 - survival[:, h - 1] for h in horizons])

    def predict_frame(self, df: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> pd.DataFrame:
        """The pyfunc output: one ``risk_h<h>`` column per horizon."""
        risk = self.predict_risk(df, tuple(horizons))
        return pd.DataFrame(risk, columns=[f"risk_h{h}" for h in horizons])

    # ------------------------------------------------------------------ explain
    def contributions(self, df: pd.DataFrame, horizon: int = 3) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """Exact TreeSHAP averaged over the horizon's months: (base, contributions, X at k=0)."""
        X0 = self._matrix(df, 0)
        base = np.zeros(len(df))
        contrib = np.zeros((len(df), X0.shape[1]))
        for k in range(horizon):
            b, c = tree_contributions(self.booster_, X0.assign(**{MONTHS_AHEAD: k}))
            base += b / horizon
            contrib += c / horizon
        return base, contrib, X0

    def explain(self, df: pd.DataFrame, horizon: int = 3, lang: str = "en", top: int = 5) -> list[Explanation]:
        """Top drivers with reasons; ``months_ahead`` is part of the baseline, not a driver."""
        return self.explain_langs(df, horizon, (lang,), top)[lang]

    def explain_langs(self, df: pd.DataFrame, horizon: int = 3, langs: tuple[str, ...] = ("en", "zh"),
                      top: int = 5) -> dict[str, list[Explanation]]:
        """The same contributions worded in several languages (TreeSHAP computed once)."""
        base, contrib, X0 = self.contributions(df, horizon)
        k_col = X0.columns.get_loc(MONTHS_AHEAD)
        base = base + contrib[:, k_col]
        contrib = np.delete(contrib, k_col, axis=1)
        X = X0.drop(columns=[MONTHS_AHEAD])
        return {lang: explain_rows(base, contrib, X, DRIVERS, lang=lang, top=top, direction=1) for lang in langs}

    # ------------------------------------------------------------------ what-if levers
    def levers(self, df: pd.DataFrame, horizon: int = 3) -> list[list[dict]]:
        """Model-based what-ifs (not causal effects): risk after each actionable change, per row."""
        before = self.predict_risk(df, (horizon,))[:, 0]
        per_lever = {}
        for name, lever in LEVERS.items():
            if not set(lever.needs) <= set(self.feature_columns_):
                continue
            changed = lever.apply(df.reset_index(drop=True))
            per_lever[name] = (lever, self.predict_risk(changed, (horizon,))[:, 0], lever.applies(df))
        out = []
        for i in range(len(df)):
            rows = []
            for name, (lever, after, applies) in per_lever.items():
                if not applies[i]:
                    continue
                rows.append({
                    "lever": name, "description": dict(lever.description), "kind": "model-based what-if, not causal",
                    "risk_before": float(before[i]), "risk_after": float(after[i]),
                    "change": float(after[i] - before[i]),
                })
            out.append(sorted(rows, key=lambda r: r["change"]))
        return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _fit_platt(raw: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Logistic regression of the label on the raw log-odds: (slope, intercept)."""
    if len(np.unique(y)) < 2:
        raise ValueError("the calibration slice has only one class; use more calibration_months or more data")
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y, sample_weight=w)
    return (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
