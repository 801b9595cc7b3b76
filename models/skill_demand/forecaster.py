"""A global LightGBM forecaster of monthly demand with calibrated P10 / P50 / P90.

Strategy: **direct**, one small LightGBM model per horizon (1-12 months), shared by every series.
Direct rather than recursive because (a) errors do not compound over 12 steps, (b) the leading
indicators (open requisitions, planned headcount) are known only up to the origin, so a recursive model
would have to forecast them too, and (c) each horizon's model is small and independent, so the
rolling-origin backtest refits only the horizons it scores.

Features at an origin T (the first month not seen) use months < T only (:func:`series.origin_features`):
lags, rolling means / std, the slope of the last 6 months, the mean absolute monthly change, series
size, the calendar of the target month (month of year, quarter), static attributes (categorical) and
exogenous leading indicators (one float64 matrix per horizon, filled in place; each horizon trains on at
most ``max_train_rows`` rows, a uniform sample on large companies). **Known-in-advance inputs**
(``ahead_cols``, e.g. the headcount plan): a column ``c`` is given as ``c_ahead_1`` .. ``c_ahead_K`` on each
row (its value ``k`` months after the row's month, missing where nothing covers that month); at origin ``T``
and horizon ``h`` the model sees ``c_ahead_h`` of the last month before ``T``, i.e. ``c`` of the target month,
raw (``ahead_<c>``) and as the scaled change from the last value (``ahead_<c>_delta``). Values are divided by the series'
recent mean level so one model serves series of every size; the model predicts the scaled change from
the last value with an L1 objective (the median change: flat series stay exactly flat, and on the demo
company L1 halved the 12-month MASE of L2, which extrapolated early growth).

Intervals are split-conformal: each horizon's model is first fitted on origins whose target month lies
before the last ``calibration_windows`` origins (a purged split, no target of the calibration window
is seen), and the empirical 10/50/90% quantiles of its scaled residuals on that window, binned by
series volatility (Mondrian conformal), are added to the final model's point forecast. When the
history is too short for a purged split, the calibration window is cross-fitted over two halves of
the series instead (``calibration_`` records which). Quantiles are sorted, and clipped at 0 when the
training target is non-negative.

Length (over 450 lines): one estimator class whose fit, conformal calibration, prediction, per-horizon method
selection and explanation share its fitted state (the panel features, per-horizon boosters and residual tables);
split across modules, each part would reach into the others' private attributes. Baselines, series handling,
selection and supply already live in their own modules.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from models.explanation import Contribution, Explanation, explain_rows, tree_contributions
from models.skill_demand import baselines, reasons, selection, supply
from models.skill_demand.series import (
    Fill,
    Panel,
    id_columns,
    last_seen,
    month_at,
    origin_features,
    series_key,
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
        ahead_cols: Sequence[str] = (),
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
        max_train_rows: int | None = 400_000,
        horizon_model: Literal["pooled", "per_horizon"] = "pooled",
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
        self.ahead_cols = ahead_cols
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
        self.max_train_rows = max_train_rows
        self.horizon_model = horizon_model
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
        if self.max_train_rows is not None and self.max_train_rows < 5 * self.min_child_samples:
            raise ValueError(f"max_train_rows must be None or >= 5 * min_child_samples, got {self.max_train_rows}")
        if self.horizon_model not in ("pooled", "per_horizon"):
            raise ValueError(f"horizon_model must be 'pooled' or 'per_horizon', got {self.horizon_model!r}")

    def _panel(self, df: pd.DataFrame, known_static: bool = False) -> Panel:
        """Validate ``df`` into a panel. With ``known_static`` (predicting), static columns absent from
        ``df`` are taken from the values seen at fit (NaN for series not seen)."""
        ids = id_columns(self.id_col)
        absent = [c for c in self.static_cols if c not in df.columns and c not in ids]
        if known_static and absent and all(c in df.columns for c in ids):
            key = series_key(df, ids)
            df = df.assign(**{c: key.map(self.static_values_[c]).to_numpy() for c in absent})
        exog = [*self.exog_cols, *self.ahead_input_columns()]
        clean = validate_long(df, ids, self.time_col, self.target_col, exog, self.static_cols, self.fill)
        return to_panel(clean, ids, self.time_col, self.target_col, exog, self.static_cols)

    def _ahead_cols(self) -> tuple[str, ...]:
        """``ahead_cols``; none for a model pickled before the parameter existed (it used no plan input)."""
        return tuple(getattr(self, "ahead_cols", ()))

    def ahead_input_columns(self) -> list[str]:
        """The input columns of the known-in-advance inputs: ``<c>_ahead_<k>`` for k = 1 .. the longest horizon."""
        return [f"{c}_ahead_{k}" for c in self._ahead_cols() for k in range(1, max(self.horizons) + 1)]

    def _features(self, panel: Panel) -> dict[str, np.ndarray]:
        feats = origin_features(panel, self.lags, self.windows, self.trend_window, exog=self.exog_cols)
        for c in self._ahead_cols():  # the value of c in month T - 1 + k, for each k (internal, not model inputs)
            for k in range(1, max(self.horizons) + 1):
                feats[f"_ahead_{c}_{k}"] = last_seen(panel.exog[f"{c}_ahead_{k}"])
        return feats

    def _ahead(self, feats: Mapping[str, np.ndarray], c: str, s: np.ndarray, o: np.ndarray, h: int | np.ndarray
               ) -> np.ndarray:
        """``c`` in the target month of rows (``s``, ``o``, ``h``): ``c_ahead_h`` of the month before ``o``."""
        hs = np.broadcast_to(np.asarray(h), s.shape)
        out = np.full(len(s), np.nan)
        for k in np.unique(hs):
            rows = hs == k
            col = feats.get(f"_ahead_{c}_{int(k)}")
            if col is not None:
                out[rows] = col[s[rows], o[rows]]
        return out

    def _matrix(self, panel: Panel, feats: Mapping[str, np.ndarray], s: np.ndarray, o: np.ndarray,
                h: int | np.ndarray) -> np.ndarray:
        """Model inputs for rows (series ``s``, origin ``o``) at horizon ``h`` (one, or one per row): one
        C-ordered float64 matrix, columns in ``feature_names_``, filled in place (LightGBM reads it without a
        copy)."""
        X = np.empty((len(s), len(self.feature_names_)), dtype=np.float64)
        month0 = panel.months[0].month - 1
        moy = (month0 + o + h - 1) % 12 + 1
        static = {}
        for c in self.static_cols:
            values = panel.static[c].to_numpy()
            if c in self.categories_:
                codes = pd.Categorical(values.astype(str), categories=self.categories_[c]).codes
                static[c] = np.where(codes < 0, np.nan, codes)
            else:
                static[c] = pd.to_numeric(values, errors="raise").astype(float)
        ahead = {}
        for c in self._ahead_cols():
            ahead[f"ahead_{c}"] = self._ahead(feats, c, s, o, h)
            ahead[f"ahead_{c}_delta"] = (ahead[f"ahead_{c}"] - feats["level"][s, o]) / feats["scale"][s, o]
        for j, name in enumerate(self.feature_names_):
            if name in ahead:
                X[:, j] = ahead[name]
            elif name == "month_of_year":
                X[:, j] = moy
            elif name == "quarter":
                X[:, j] = (moy - 1) // 3 + 1
            elif name == "horizon":
                X[:, j] = h
            elif name in static:
                X[:, j] = static[name][s]
            else:
                X[:, j] = feats[name][s, o]
        return X

    def _design(self, panel: Panel, feats: Mapping[str, np.ndarray], s: np.ndarray, o: np.ndarray, h: int
                ) -> pd.DataFrame:
        """:meth:`_matrix` as a frame (calendar columns as integers), for predictions and explanations."""
        X = pd.DataFrame(self._matrix(panel, feats, s, o, h), columns=self.feature_names_)
        return X.astype({c: "int64" for c in ("month_of_year", "quarter", "horizon") if c in X.columns})

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

    def _dataset(self, X: np.ndarray, y: np.ndarray) -> lgb.Dataset:
        """The binned training set; its raw matrix is released once constructed (subsets share the bins)."""
        cats = [c for c in self.static_cols if c in self.categories_]
        params = {"max_bin": 63, "bin_construct_sample_cnt": 50_000, "min_data_in_leaf": self.min_child_samples,
                  "verbosity": -1, "num_threads": 1}
        return lgb.Dataset(X, y, feature_name=list(self.feature_names_), categorical_feature=cats or "auto",
                           params=params, free_raw_data=True)

    def _train(self, data: lgb.Dataset, rows: np.ndarray | None = None) -> lgb.Booster:
        """Train on ``data`` (or the subset ``rows`` of it, sharing its bins)."""
        if rows is not None:
            data = data.subset(np.flatnonzero(rows).tolist())
        return lgb.train(self._lgb_params(), data, num_boost_round=self.n_estimators)

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame) -> DemandForecaster:
        """Fit one model per horizon on every (series, origin) of ``df`` and calibrate its intervals."""
        self._check_params()
        self._fit_panel(self._panel(df))
        _release_freed_memory()
        return self

    def _fit_panel(self, panel: Panel, calibrate: bool = True) -> DemandForecaster:
        """Fit on ``panel``; without ``calibrate`` (backtest models, whose intervals the served forecast does
        not use) no interval is calibrated and P10 / P90 are NaN."""
        self.categories_ = {
            c: sorted(panel.static[c].astype(str).unique())
            for c in self.static_cols
            if not pd.api.types.is_numeric_dtype(panel.static[c])
        }
        feats = self._features(panel)
        pooled = self.horizon_model == "pooled"
        self.feature_names_ = [n for n in feats if n not in _NOT_FEATURES and not n.startswith("_")] + [
            *(f"ahead_{c}{x}" for c in self._ahead_cols() for x in ("", "_delta")),
            "month_of_year", "quarter", *(["horizon"] if pooled else []), *self.static_cols]
        y = panel.values
        self.nonnegative_ = bool(np.nanmin(y) >= 0) if self.nonnegative == "auto" else bool(self.nonnegative)
        self.quantiles_ = sorted(float(q) for q in self.quantiles)
        self.horizons_ = sorted(int(h) for h in self.horizons)
        if pooled:
            booster, calibration = self._fit_pooled(panel, feats, calibrate)
            self.boosters_: dict[int, lgb.Booster] = dict.fromkeys(self.horizons_, booster)
            self.calibration_: dict[int, dict[str, Any]] = calibration
        else:
            results = _parallel(lambda h: self._fit_horizon(panel, feats, h, calibrate), self.horizons_,
                                self.n_jobs)
            self.boosters_ = {h: r[0] for h, r in zip(self.horizons_, results, strict=True)}
            self.calibration_ = {h: r[1] for h, r in zip(self.horizons_, results, strict=True)}
        ids = id_columns(self.id_col)
        self.static_values_ = {c: panel.static[c] for c in self.static_cols if c not in ids}
        self.feature_service_ = self.feature_service
        self.id_cols_ = id_columns(self.id_col)
        return self

    def _rows(self, panel: Panel, feats: Mapping[str, np.ndarray], h: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training rows of horizon ``h``: series ``s``, origin ``o`` (every one whose target month is
        observed and with ``min_history`` months before it) and the scaled change to the target."""
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
        return s, o, (y[s, o + h - 1] - feats["level"][s, o]) / feats["scale"][s, o]

    def _fit_horizon(self, panel: Panel, feats: Mapping[str, np.ndarray], h: int, calibrate: bool
                     ) -> tuple[lgb.Booster, dict[str, Any]]:
        """``horizon_model="per_horizon"``: the horizon-``h`` model on every (series, origin) whose target
        month is observed, and its interval calibration on its last ``calibration_windows`` origins."""
        s, o, target = self._rows(panel, feats, h)
        start = o.max() - self.calibration_windows + 1
        cal = o >= start
        s_cal, target_cal = s[cal], target[cal]
        X_cal = self._matrix(panel, feats, s[cal], o[cal], h) if calibrate else None
        keep = self._sample(len(s), h)
        if keep is not None:
            s, o, target = s[keep], o[keep], target[keep]
        data = self._dataset(self._matrix(panel, feats, s, o, h), target).construct()
        if not calibrate:
            return self._train(data), self._no_interval()
        return self._train(data), self._calibrate(data, s, o, h, start, s_cal, X_cal, target_cal)

    def _fit_pooled(self, panel: Panel, feats: Mapping[str, np.ndarray], calibrate: bool
                    ) -> tuple[lgb.Booster, dict[int, dict[str, Any]]]:
        """One model for every horizon, the horizon a feature, on a sample of at most ``max_train_rows``
        (series, origin, horizon) rows; intervals per horizon from a purged split: a second model on rows
        whose target month is before the earliest calibration origin, scored on each horizon's last
        ``calibration_windows`` origins."""
        parts = [self._rows(panel, feats, h) for h in self.horizons_]
        s = np.concatenate([p[0] for p in parts])
        o = np.concatenate([p[1] for p in parts])
        hh = np.concatenate([np.full(len(p[0]), h) for h, p in zip(self.horizons_, parts, strict=True)])
        target = np.concatenate([p[2] for p in parts])
        last = {h: p[1].max() for h, p in zip(self.horizons_, parts, strict=True)}
        cal = o > np.array([last[h] for h in self.horizons_]).repeat([len(p[0]) for p in parts]) - \
            self.calibration_windows
        start = int(o[cal].min())  # the earliest calibration origin: the calibration model sees no target from it
        s_cal, h_cal, target_cal = s[cal], hh[cal], target[cal]
        X_cal = self._matrix(panel, feats, s_cal, o[cal], h_cal) if calibrate else None
        keep = self._sample(len(s), 0)
        if keep is not None:
            s, o, hh, target = s[keep], o[keep], hh[keep], target[keep]
        data = self._dataset(self._matrix(panel, feats, s, o, hh), target).construct()
        booster = self._train(data)
        if not calibrate:
            return booster, {h: self._no_interval() for h in self.horizons_}
        res, method = self._residuals(data, s, o + hh - 1 < start, s_cal, X_cal, target_cal, "all horizons")
        vol = X_cal[:, self.feature_names_.index("abs_change_12")]
        return booster, {h: self._residual_table(res[h_cal == h], vol[h_cal == h], method) for h in self.horizons_}

    def _no_interval(self) -> dict[str, Any]:
        """A backtest model's calibration: no interval (NaN P10 / P90), the median offset 0. The served
        forecast's interval is calibrated on the backtest itself (:mod:`models.skill_demand.selection`)."""
        q = np.array([[0.0 if q == 0.5 else np.nan for q in self.quantiles_]])
        return {"method": "none", "edges": np.array([]), "quantiles": q, "n": 0}

    def _sample(self, n_rows: int, h: int) -> np.ndarray | None:
        """Sorted indices of a uniform sample of ``max_train_rows`` rows (seeded per horizon), None for all rows
        (a 20,000-employee company has up to 3 M rows per horizon; the demo company ~300,000)."""
        if self.max_train_rows is None or n_rows <= self.max_train_rows:
            return None
        rng = np.random.default_rng([self.random_state, h])
        return np.sort(rng.choice(n_rows, self.max_train_rows, replace=False))

    def _calibrate(self, data: lgb.Dataset, s: np.ndarray, o: np.ndarray, h: int, start: int, s_cal: np.ndarray,
                   X_cal: np.ndarray, target_cal: np.ndarray) -> dict[str, Any]:
        """Scaled residual quantiles on every row of the last ``calibration_windows`` origins (from ``start``:
        series ``s_cal``, inputs ``X_cal``, targets ``target_cal``), per volatility bin, from models fitted on
        rows of ``data`` (series ``s``, origin ``o``)."""
        res, method = self._residuals(data, s, o + h - 1 < start, s_cal, X_cal, target_cal, f"horizon {h}")
        return self._residual_table(res, X_cal[:, self.feature_names_.index("abs_change_12")], method)

    def _residuals(self, data: lgb.Dataset, s: np.ndarray, train: np.ndarray, s_cal: np.ndarray, X_cal: np.ndarray,
                   target_cal: np.ndarray, what: str) -> tuple[np.ndarray, str]:
        """Out-of-sample scaled residuals of the calibration rows and how they were made: from a model on the
        rows ``train`` of ``data`` (purged: their targets precede every calibration origin), or, with too few
        of those, cross-fitted over two halves of the series."""
        if train.sum() >= max(_MIN_CAL_ROWS, 5 * self.min_child_samples) and len(target_cal) >= _MIN_CAL_ROWS:
            return target_cal - self._train(data, train).predict(X_cal, num_threads=1), "purged time split"
        res = np.full(len(target_cal), np.nan)
        fold, fold_cal = s % 2, s_cal % 2
        for f in (0, 1):
            fit_rows, out_rows = fold != f, fold_cal == f
            if fit_rows.sum() < _MIN_CAL_ROWS or not out_rows.any():
                raise ValueError(f"{what}: too few series or months to calibrate intervals")
            res[out_rows] = target_cal[out_rows] - self._train(data, fit_rows).predict(X_cal[out_rows], num_threads=1)
        return res, "2-fold series cross-fit"

    def _residual_table(self, res: np.ndarray, vol: np.ndarray, method: str) -> dict[str, Any]:
        """The 10 / 50 / 90% quantiles of scaled residuals ``res`` per bin of volatility ``vol`` (Mondrian)."""
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
            point = self.boosters_[h].predict(X, num_threads=1)
            cal = self.calibration_[h]
            bins = np.digitize(np.nan_to_num(X["abs_change_12"].to_numpy(), nan=-1.0), cal["edges"])
            q = level[:, None] + scale[:, None] * (point[:, None] + cal["quantiles"][bins])
            # no move further from the last value than the series ever moved in h months
            last = baselines.naive(panel.values, o, [h])[:, 0]
            bound = baselines.change_bound(panel.values, o, h)
            q = np.clip(q, (last - bound)[:, None], (last + bound)[:, None])
            if self.nonnegative_:
                q = np.maximum(q, 0.0)
            q = np.sort(q, axis=1) if cal["method"] != "none" else q
            method = "lightgbm"
            choice = getattr(self, "selection_", {}).get(h)
            if choice is not None and len(self.quantiles_) == 3:
                q = np.column_stack(selection.served_rows(panel.values, o, h, q[:, 1], choice, self.nonnegative_))
                method = choice["method"]
            out = panel.static.iloc[s][self.id_cols_].reset_index(drop=True)
            out[self.time_col] = month_at(panel, o + h - 1).to_numpy()
            out["horizon"] = h
            for j, qv in enumerate(self.quantiles_):
                out[_qname(qv)] = q[:, j]
            out["method"] = method
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
        the calibrated median offset; ``base_value + total`` equals P50 before clipping at 0 (a forecast held
        to the largest move the series made in ``horizon`` months has that adjustment as a driver)."""
        return self.explain_series(df, horizon, lang, top)[1]

    def explain_series(self, df: pd.DataFrame, horizon: int = 3, lang: str = "en", top: int = 5
                       ) -> tuple[pd.DataFrame, list[Explanation]]:
        """:meth:`explain` with the id columns of the series each explanation belongs to (same order)."""
        self._check_fitted()
        (h,) = self._horizons(horizon)
        choice = getattr(self, "selection_", {}).get(h)
        if choice is not None and choice["method"] != "lightgbm":
            return self._explain_method(df, h, choice, lang)
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
        drivers, groups = reasons.drivers(self.feature_names_, self.exog_cols, self.static_cols, self._ahead_cols())
        out = explain_rows(level + scale * (base + median), contrib * scale[:, None], shown, drivers,
                           lang=lang, top=top, groups=groups)
        raw = level + scale * (base + median + contrib.sum(axis=1))
        last = baselines.naive(panel.values, o, [h])[:, 0]
        bound = baselines.change_bound(panel.values, o, h)
        bounded = np.clip(raw, last - bound, last + bound)
        keys = panel.static.iloc[s][self.id_cols_].reset_index(drop=True)
        return keys, [_with_bound(_without_missing(e, set(self.exog_cols)), b - r, m, h, lang)
                      for e, r, b, m in zip(out, raw, bounded, bound, strict=True)]

    def method_text(self, horizon: int, lang: str = "en") -> str:
        """The method serving ``horizon`` in words, in ``lang`` (``en`` or ``zh``): "LightGBM", "naive (last
        value)", "equal-weight mean of AutoETS and naive (last value)", ... (:func:`selection.describe`)."""
        choice = getattr(self, "selection_", {}).get(int(horizon))
        if choice is None or len(self.quantiles_) != 3:  # predict serves the tree model's own quantiles
            choice = {"method": "lightgbm", "weights": {"lightgbm": 1.0}}
        return selection.describe(choice, "zh" if lang == "zh" else "en")

    def _explain_method(self, df: pd.DataFrame, h: int, choice: Mapping[str, Any], lang: str
                        ) -> tuple[pd.DataFrame, list[Explanation]]:
        """At a horizon served by a baseline or an ensemble: the served P50 and, as the reason, the method
        and its backtest score (no tree contributions: the value is not the tree model's)."""
        served = self.predict(df, h)
        p50 = served["p50"].to_numpy()
        score = choice["scores"][choice["method"]]
        text = (f"forecast by {selection.describe(choice, 'en')}, the method served {h} months ahead "
                f"(scaled error {score:.2f} on the backtest)" if lang == "en" else
                f"由{selection.describe(choice, 'zh')}预测：提前{h}个月采用的方法（回测标度误差{score:.2f}）")
        return (served[self.id_cols_].reset_index(drop=True),
                [Explanation(base_value=float(v), contributions=[], reasons=[text], total=0.0) for v in p50])

    def select(self, backtest: pd.DataFrame) -> DemandForecaster:
        """Choose the served method per horizon from backtest rows (``model``, ``horizon``, ``p50``, ``y``,
        ``scale``, ``series``, ``origin``; see :mod:`models.skill_demand.selection`)."""
        self.selection_ = selection.select(backtest)
        return self

    # ------------------------------------------------------------------ backtest
    def cross_validation(
        self,
        df: pd.DataFrame,
        n_windows: int = 6,
        horizons: Sequence[int] = (1, 3, 6, 12),
        step: int = 1,
        refit_every: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> pd.DataFrame:
        """Rolling-origin backtest: for each horizon, the last ``n_windows`` origins (``step`` months apart)
        whose target month is observed. The model is refitted on months before an origin every
        ``refit_every`` origins (1: at every origin) and forecasts from each origin with the months before
        it; a model fitted at origin ``R`` and used at a later origin ``O`` has seen no month from ``R`` on.
        Backtest models carry no interval of their own (P10 / P90 NaN): the served forecast's interval is
        calibrated on the backtest (:mod:`models.skill_demand.selection`). ``progress(n)`` is called after
        each refit with the number of origins it forecast.
        Returns id columns, ``origin`` (first unseen month), target month, ``horizon``, the actual
        ``value`` (``target_col``) and the quantile columns."""
        self._check_params()
        if refit_every < 1:
            raise ValueError(f"refit_every must be at least 1, got {refit_every}")
        panel = self._panel(df)
        _release_freed_memory()
        plan: dict[int, list[int]] = {}
        n_months = len(panel.months)
        for h in horizons:
            last = n_months - h
            for i in range(n_windows):
                plan.setdefault(last - i * step, []).append(int(h))
        if min(plan) < 1:
            raise ValueError(f"not enough months for {n_windows} windows at horizons {list(horizons)}")
        origins = sorted(plan)
        blocks = [origins[i:i + refit_every] for i in range(0, len(origins), refit_every)]

        def at_block(block: list[int]) -> pd.DataFrame:
            hs = sorted({h for o in block for h in plan[o]})
            model = self.__class__(**{**self.get_params(), "horizons": tuple(hs), "n_jobs": 1})
            model._fit_panel(truncate(panel, block[0], alive_only=False), calibrate=False)
            frames = []
            for o in block:
                seen = truncate(panel, o, alive_only=True)
                hs_o = sorted(plan[o])
                fc = model._predict_panel(seen, hs_o)
                fc.insert(len(model.id_cols_), "origin", panel.months[o])
                # the actual value of each forecast row (rows come per horizon, series in panel order)
                rows = np.searchsorted(panel.keys, seen.keys)
                fc[self.target_col] = np.concatenate([panel.values[rows, o + h - 1] for h in hs_o])
                frames.append(fc[fc[self.target_col].notna()])
            del model
            _release_freed_memory()
            if progress is not None:
                progress(len(block))
            return pd.concat(frames, ignore_index=True)

        frames = _parallel(at_block, blocks, self.n_jobs)
        return pd.concat(frames, ignore_index=True)


def _parallel(fn: Callable[[Any], Any], items: Sequence[Any], n_jobs: int) -> list[Any]:
    """``[fn(x) for x in items]``, on ``n_jobs`` threads when > 1 (LightGBM releases the GIL).

    Every LightGBM call made by ``fn`` must name ``num_threads`` (1). LightGBM keeps one process-wide thread
    count: a call without it (``Booster.predict(X)``) resets that count to OpenMP's default while another
    thread trains with per-thread buffers sized for one thread, and the trainer then indexes past them
    (segfaults in ``talentloop demo``, where ``OMP_NUM_THREADS`` is unset, in 2 of 3 runs)."""
    if n_jobs <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(fn, items))


def _release_freed_memory() -> None:
    """Return the memory numpy and pandas have freed to the operating system. glibc keeps freed blocks
    under 32 MB (a feature array of 86,000 series) in each thread's heap: after the backtest of a
    20,000-employee company that is over 1 GiB the next stage cannot use for its large arrays. No-op
    without glibc's ``malloc_trim``."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def _without_missing(e: Explanation, exog: set[str]) -> Explanation:
    """``e`` without exogenous drivers whose value is missing (e.g. no headcount plan for the month) and
    without empty reasons; ``total`` (and so ``raw_score``) still sums every contribution."""
    kept = [c for c in e.contributions if not (c.feature in exog and c.value is None)]
    return Explanation(e.base_value, kept, [r for r in e.reasons if r and "n/a" not in r], total=e.total)


def _with_bound(e: Explanation, adjust: float, bound: float, h: int, lang: str) -> Explanation:
    """``e`` plus the adjustment that held the forecast to the largest ``h``-month move of the series."""
    if abs(adjust) < 1e-9:
        return e
    name = {"en": f"largest {h}-month move seen", "zh": f"历史上{h}个月内最大变动"}[lang]
    text = {"en": f"held to the largest {h}-month move the series ever made ({bound:.1f})",
            "zh": f"限制在该序列{h}个月内出现过的最大变动（{bound:.1f}）以内"}[lang]
    extra = Contribution("change_bound", name, float(bound), float(adjust))
    return Explanation(e.base_value, [*e.contributions, extra], [*e.reasons, text], total=e.total + adjust)


def _qname(q: float) -> str:
    return f"p{round(q * 100):02d}"
