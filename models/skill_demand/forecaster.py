"""A global LightGBM forecaster of monthly demand with calibrated P10 / P50 / P90.

Strategy: **direct**, one small LightGBM model per horizon (1-12 months), shared by every series.
Direct rather than recursive because (a) errors do not compound over 12 steps, (b) the leading
indicators (open requisitions, planned headcount) are known only up to the origin, so a recursive model
would have to forecast them too, and (c) each horizon's model is small and independent, so the
rolling-origin backtest refits only the horizons it scores.

Features at an origin T (the first month not seen) use months < T only (:func:`series.origin_features`):
lags, rolling means / std, the slope of the last 6 months, the mean absolute monthly change, series
size, the calendar of the target month (month of year, quarter), static attributes (categorical) and
exogenous leading indicators. Values are divided by the series' recent mean level so one model serves
series of every size; the model predicts the scaled change from the last value with an L1 objective
(the median change: flat series stay exactly flat, and on the demo company L1 halved the 12-month MASE
of L2, which extrapolated early growth).

Intervals are split-conformal: each horizon's model is first fitted on origins whose target month lies
before the last ``calibration_windows`` origins (a purged split, no target of the calibration window
is seen), and the empirical 10/50/90% quantiles of its scaled residuals on that window, binned by
series volatility (Mondrian conformal), are added to the final model's point forecast. When the
history is too short for a purged split, the calibration window is cross-fitted over two halves of
the series instead (``calibration_`` records which). Quantiles are sorted, and clipped at 0 when the
training target is non-negative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from models.explanation import Explanation, explain_rows, tree_contributions
from models.skill_demand import reasons, supply
from models.skill_demand.series import (
    Fill,
    Panel,
    id_columns,
    long_actuals,
    month_at,
    origin_features,
    to_panel,
    truncate,
    validate_long,
)

_NOT_FEATURES = ("level", "scale", "n_obs")
_MIN_CAL_ROWS = 30


class DemandForecaster(BaseEstimator):
    """Global direct multi-horizon forecaster over long-format monthly series (see module docstring)."""

    def __init__(
        self,
        horizons: Sequence[int] = tuple(range(1, 13)),
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        lags: Sequence[int] = (1, 2, 3, 6, 12),
        windows: Sequence[int] = (3, 6, 12),
        trend_window: int = 6,
        exog_cols: Sequence[str] = (),
        static_cols: Sequence[str] = (),
        id_col: str | Sequence[str] = "series_id",
        time_col: str = "month",
        target_col: str = "value",
        fill: Fill = "reject",
        min_history: int = 3,
        objective: Literal["l2", "l1", "huber"] = "l1",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        calibration_windows: int = 3,
        calibration_bins: int = 4,
        nonnegative: bool | Literal["auto"] = "auto",
        completion_rate: float = 0.7,
        months_to_complete: float = 3.0,
        feature_service: str = "skill_demand_v1",
        n_jobs: int = 1,
        random_state: int = 0,
    ):
        self.horizons = horizons
        self.quantiles = quantiles
        self.lags = lags
        self.windows = windows
        self.trend_window = trend_window
        self.exog_cols = exog_cols
        self.static_cols = static_cols
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.fill = fill
        self.min_history = min_history
        self.objective = objective
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.calibration_windows = calibration_windows
        self.calibration_bins = calibration_bins
        self.nonnegative = nonnegative
        self.completion_rate = completion_rate
        self.months_to_complete = months_to_complete
        self.feature_service = feature_service
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ data
    def _check_params(self) -> None:
        hs = list(self.horizons)
        if not hs or any(not isinstance(h, int | np.integer) or h < 1 for h in hs):
            raise ValueError(f"horizons must be positive integers, got {self.horizons!r}")
        qs = sorted(self.quantiles)
        if len(qs) < 2 or any(not 0 < q < 1 for q in qs) or 0.5 not in qs:
            raise ValueError(f"quantiles must lie in (0, 1) and include 0.5, got {self.quantiles!r}")
        if self.min_history < 1:
            raise ValueError(f"min_history must be >= 1, got {self.min_history}")
        if self.calibration_windows < 1:
            raise ValueError(f"calibration_windows must be >= 1, got {self.calibration_windows}")

    def _panel(self, df: pd.DataFrame, known_static: bool = False) -> Panel:
        """Validate ``df`` into a panel. With ``known_static`` (predicting), static columns absent from
        ``df`` are taken from the values seen at fit (NaN for series not seen)."""
        ids = id_columns(self.id_col)
        absent = [c for c in self.static_cols if c not in df.columns and c not in ids]
        if known_static and absent and all(c in df.columns for c in ids):
            key = df[ids[0]].astype(str) if len(ids) == 1 else df[ids].astype(str).agg("|".join, axis=1)
            df = df.assign(**{c: key.map(self.static_values_[c]).to_numpy() for c in absent})
        clean = validate_long(df, ids, self.time_col, self.target_col, self.exog_cols, self.static_cols, self.fill)
        return to_panel(clean, ids, self.time_col, self.target_col, self.exog_cols, self.static_cols)

    def _features(self, panel: Panel) -> dict[str, np.ndarray]:
        return origin_features(panel, self.lags, self.windows, self.trend_window)

    def _design(self, panel: Panel, feats: Mapping[str, np.ndarray], s: np.ndarray, o: np.ndarray, h: int
                ) -> pd.DataFrame:
        """Model inputs for rows (series ``s``, origin ``o``) at horizon ``h``, columns in ``feature_names_``."""
        cols: dict[str, Any] = {n: a[s, o] for n, a in feats.items() if n not in _NOT_FEATURES}
        month0 = panel.months[0].month - 1
        moy = (month0 + o + h - 1) % 12 + 1
        cols["month_of_year"] = moy
        cols["quarter"] = (moy - 1) // 3 + 1
        for c in self.static_cols:
            values = panel.static[c].to_numpy()[s]
            if c in self.categories_:
                codes = pd.Categorical(values.astype(str), categories=self.categories_[c]).codes
                cols[c] = np.where(codes < 0, np.nan, codes)
            else:
                cols[c] = pd.to_numeric(values, errors="raise").astype(float)
        return pd.DataFrame(cols)[self.feature_names_]

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": {"l2": "regression", "l1": "regression_l1", "huber": "huber"}[self.objective],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "force_col_wise": True,
            "num_threads": 1,
            "seed": self.random_state,
            "deterministic": True,
            "verbosity": -1,
        }

    def _dataset(self, X: pd.DataFrame, y: np.ndarray) -> lgb.Dataset:
        cats = [c for c in self.static_cols if c in self.categories_]
        params = {"max_bin": 63, "bin_construct_sample_cnt": 50_000, "min_data_in_leaf": self.min_child_samples,
                  "verbosity": -1, "num_threads": 1}
        return lgb.Dataset(X, y, categorical_feature=cats or "auto", params=params, free_raw_data=False)

    def _train(self, data: lgb.Dataset, rows: np.ndarray | None = None) -> lgb.Booster:
        """Train on ``data`` (or the subset ``rows`` of it, sharing its bins)."""
        if rows is not None:
            data = data.subset(np.flatnonzero(rows).tolist())
        return lgb.train(self._lgb_params(), data, num_boost_round=self.n_estimators)

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame) -> DemandForecaster:
        """Fit one model per horizon on every (series, origin) of ``df`` and calibrate its intervals."""
        self._check_params()
        return self._fit_panel(self._panel(df))

    def _fit_panel(self, panel: Panel) -> DemandForecaster:
        self.categories_ = {
            c: sorted(panel.static[c].astype(str).unique())
            for c in self.static_cols
            if not pd.api.types.is_numeric_dtype(panel.static[c])
        }
        feats = self._features(panel)
        self.feature_names_ = [n for n in feats if n not in _NOT_FEATURES] + ["month_of_year", "quarter",
                                                                               *self.static_cols]
        y = panel.values
        self.nonnegative_ = bool(np.nanmin(y) >= 0) if self.nonnegative == "auto" else bool(self.nonnegative)
        self.quantiles_ = sorted(float(q) for q in self.quantiles)
        self.horizons_ = sorted(int(h) for h in self.horizons)
        results = _parallel(lambda h: self._fit_horizon(panel, feats, h), self.horizons_, self.n_jobs)
        self.boosters_: dict[int, lgb.Booster] = {h: r[0] for h, r in zip(self.horizons_, results, strict=True)}
        self.calibration_: dict[int, dict[str, Any]] = {h: r[1] for h, r in zip(self.horizons_, results,
                                                                                 strict=True)}
        ids = id_columns(self.id_col)
        self.static_values_ = {c: panel.static[c] for c in self.static_cols if c not in ids}
        self.feature_service_ = self.feature_service
        self.id_cols_ = id_columns(self.id_col)
        return self

    def _fit_horizon(self, panel: Panel, feats: Mapping[str, np.ndarray], h: int
                     ) -> tuple[lgb.Booster, dict[str, Any]]:
        """The horizon-``h`` model on every (series, origin) whose target month is observed, and its
        interval calibration."""
        y = panel.values
        n_months = y.shape[1]
        origins = np.arange(1, n_months - h + 1)
        s, o = (a.ravel() for a in np.meshgrid(np.arange(y.shape[0]), origins, indexing="ij"))
        ok = (feats["n_obs"][s, o] >= self.min_history) & ~np.isnan(feats["level"][s, o])
        ok &= ~np.isnan(y[s, np.minimum(o + h - 1, n_months - 1)])
        s, o = s[ok], o[ok]
        if len(s) < _MIN_CAL_ROWS:
            raise ValueError(
                f"horizon {h} has {len(s)} training rows; series need at least min_history="
                f"{self.min_history} + {h} months (the data spans {n_months} months)"
            )
        X = self._design(panel, feats, s, o, h)
        level, scale = feats["level"][s, o], feats["scale"][s, o]
        target = (y[s, o + h - 1] - level) / scale
        data = self._dataset(X, target).construct()
        return self._train(data), self._calibrate(data, X, target, s, o, h)

    def _calibrate(self, data: lgb.Dataset, X: pd.DataFrame, target: np.ndarray, s: np.ndarray, o: np.ndarray, h: int
                   ) -> dict[str, Any]:
        """Scaled residual quantiles on the last ``calibration_windows`` origins, per volatility bin."""
        start = o.max() - self.calibration_windows + 1
        cal = o >= start
        train = o + h - 1 < start
        residuals = np.full(len(target), np.nan)
        if train.sum() >= max(_MIN_CAL_ROWS, 5 * self.min_child_samples) and cal.sum() >= _MIN_CAL_ROWS:
            method = "purged time split"
            residuals[cal] = target[cal] - self._train(data, train).predict(X[cal])
        else:
            method = "2-fold series cross-fit"
            fold = s % 2
            for f in (0, 1):
                fit_rows, out_rows = fold != f, cal & (fold == f)
                if fit_rows.sum() < _MIN_CAL_ROWS or not out_rows.any():
                    raise ValueError(f"horizon {h}: too few series or months to calibrate intervals")
                residuals[out_rows] = target[out_rows] - self._train(data, fit_rows).predict(X[out_rows])
        vol = X["abs_change_12"].to_numpy()[cal]
        res = residuals[cal]
        n_bins = int(max(1, min(self.calibration_bins, len(res) // 200)))
        edges = np.nanquantile(vol, np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 else np.array([])
        bins = np.digitize(np.nan_to_num(vol, nan=-1.0), edges)
        table = np.array([np.quantile(res[bins == b], self.quantiles_) if (bins == b).sum() else
                          np.quantile(res, self.quantiles_) for b in range(n_bins)])
        return {"method": method, "edges": edges, "quantiles": table, "n": int(len(res))}

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "boosters_"):
            raise RuntimeError("DemandForecaster is not fitted; call fit(df) first")

    def _origin_rows(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        """Each series' origin: the month after its last observation."""
        seen = ~np.isnan(panel.values)
        last = seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
        return np.arange(len(panel.keys)), last + 1

    def _horizons(self, horizons: int | Sequence[int] | None) -> list[int]:
        if horizons is None:
            return list(self.horizons_)
        hs = [int(horizons)] if isinstance(horizons, int | np.integer) else [int(h) for h in horizons]
        unknown = sorted(set(hs) - set(self.horizons_))
        if unknown:
            raise ValueError(f"horizons {unknown} were not fitted; fitted horizons are {self.horizons_}")
        return hs

    def _predict_panel(self, panel: Panel, horizons: Sequence[int]) -> pd.DataFrame:
        feats = self._features(panel)
        s, o = self._origin_rows(panel)
        frames = []
        for h in horizons:
            X = self._design(panel, feats, s, o, h)
            level, scale = feats["level"][s, o], feats["scale"][s, o]
            point = self.boosters_[h].predict(X)
            cal = self.calibration_[h]
            bins = np.digitize(np.nan_to_num(X["abs_change_12"].to_numpy(), nan=-1.0), cal["edges"])
            q = level[:, None] + scale[:, None] * (point[:, None] + cal["quantiles"][bins])
            if self.nonnegative_:
                q = np.maximum(q, 0.0)
            q = np.sort(q, axis=1)
            out = panel.static.iloc[s][self.id_cols_].reset_index(drop=True)
            out[self.time_col] = month_at(panel, o + h - 1).to_numpy()
            out["horizon"] = h
            for j, qv in enumerate(self.quantiles_):
                out[_qname(qv)] = q[:, j]
            frames.append(out)
        return pd.concat(frames, ignore_index=True)

    def predict(self, df: pd.DataFrame, horizons: int | Sequence[int] | None = None) -> pd.DataFrame:
        """Forecasts from the month after each series' last month of ``df``: id columns, the target month,
        ``horizon`` and one column per quantile (``p10``, ``p50``, ``p90``)."""
        self._check_fitted()
        return self._predict_panel(self._panel(df, known_static=True), self._horizons(horizons))

    def predict_frame(
        self,
        df: pd.DataFrame,
        horizons: int | Sequence[int] | None = None,
        exit_probabilities: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The pyfunc entry point: forecasts, plus supply and gap when ``df`` carries the supply columns
        (``holders_at_required``, ``in_training`` and an exit rate; see :mod:`models.skill_demand.supply`)."""
        forecast = self.predict(df, horizons)
        if not supply.has_supply_columns(df):
            return forecast
        state = supply.latest_state(df, self.id_cols_, self.time_col)
        projected = supply.project_supply(
            state, sorted(forecast["horizon"].unique()), self.id_cols_, exit_probabilities,
            completion_rate=self.completion_rate, months_to_complete=self.months_to_complete,
        )
        return supply.demand_supply_gap(forecast, projected, self.id_cols_, self.quantiles_)

    # ------------------------------------------------------------------ explain
    def explain(self, df: pd.DataFrame, horizon: int = 3, lang: str = "en", top: int = 5) -> list[Explanation]:
        """Exact TreeSHAP drivers of the P50 forecast at ``horizon`` for each series of ``df`` (order of
        ``predict``), in demand units: ``base_value`` is the last value plus the model's base change and
        the calibrated median offset; ``base_value + total`` equals P50 before clipping at 0."""
        self._check_fitted()
        (h,) = self._horizons(horizon)
        panel = self._panel(df, known_static=True)
        feats = self._features(panel)
        s, o = self._origin_rows(panel)
        X = self._design(panel, feats, s, o, h)
        base, contrib = tree_contributions(self.boosters_[h], X)
        level, scale = feats["level"][s, o], feats["scale"][s, o]
        cal = self.calibration_[h]
        bins = np.digitize(np.nan_to_num(X["abs_change_12"].to_numpy(), nan=-1.0), cal["edges"])
        median = cal["quantiles"][bins, self.quantiles_.index(0.5)]
        shown = reasons.display_values(X, scale, panel.static.iloc[s], self.categories_)
        drivers, groups = reasons.drivers(self.feature_names_, self.exog_cols, self.static_cols)
        return explain_rows(level + scale * (base + median), contrib * scale[:, None], shown, drivers,
                            lang=lang, top=top, groups=groups)

    # ------------------------------------------------------------------ backtest
    def cross_validation(
        self,
        df: pd.DataFrame,
        n_windows: int = 6,
        horizons: Sequence[int] = (1, 3, 6, 12),
        step: int = 1,
    ) -> pd.DataFrame:
        """Rolling-origin backtest: for each horizon, the last ``n_windows`` origins (``step`` months apart)
        whose target month is observed; the model is refitted at every origin on months before it.
        Returns id columns, ``origin`` (first unseen month), target month, ``horizon``, the actual
        ``value`` (``target_col``) and the quantile columns."""
        self._check_params()
        panel = self._panel(df)
        plan: dict[int, list[int]] = {}
        n_months = len(panel.months)
        for h in horizons:
            last = n_months - h
            for i in range(n_windows):
                plan.setdefault(last - i * step, []).append(int(h))
        if min(plan) < 1:
            raise ValueError(f"not enough months for {n_windows} windows at horizons {list(horizons)}")

        def at_origin(o: int) -> pd.DataFrame:
            hs = sorted(plan[o])
            model = self.__class__(**{**self.get_params(), "horizons": tuple(hs), "n_jobs": 1})
            model._fit_panel(truncate(panel, o, alive_only=False))
            fc = model._predict_panel(truncate(panel, o, alive_only=True), hs)
            fc.insert(len(model.id_cols_), "origin", panel.months[o])
            return fc

        frames = _parallel(at_origin, sorted(plan), self.n_jobs)
        out = pd.concat(frames, ignore_index=True)
        actual = long_actuals(panel, id_columns(self.id_col), self.time_col, self.target_col)
        out = out.merge(actual, on=[*id_columns(self.id_col), self.time_col], how="inner")
        return out


def _parallel(fn: Callable[[Any], Any], items: Sequence[Any], n_jobs: int) -> list[Any]:
    """``[fn(x) for x in items]``, on ``n_jobs`` threads when > 1 (LightGBM releases the GIL)."""
    if n_jobs <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(fn, items))


def _qname(q: float) -> str:
    return f"p{round(q * 100):02d}"
