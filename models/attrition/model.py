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

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.feature_repo.services import ATTRITION_SERVICE
from models.attrition.reasons import DRIVERS, KIND, LEVERS, MIN_LEVER_CHANGE
from models.explanation import Explanation, explain_values, tree_contributions

HORIZONS = tuple(range(1, 13))
MONTHS_AHEAD = "months_ahead"


@dataclass(frozen=True)
class ThresholdPolicy:
    """When a risk becomes an alert: at ``horizon``, risk ≥ ``min_risk`` or in the top ``top_share`` of a unit."""

    horizon: int
    min_risk: float
    top_share: float


def check_hazard_rows(rows: pd.DataFrame, feature_columns: list[str]) -> None:
    """One-line errors for training rows that lack the label, the months ahead, the timestamp or a feature."""
    for col in ("label", MONTHS_AHEAD, "event_timestamp"):
        if col not in rows.columns:
            raise ValueError(f"rows must have a {col!r} column")
    missing = [c for c in feature_columns if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack feature columns {missing}")


class AttritionModel:
    """sklearn-style: the constructor stores hyper-parameters; ``fit`` sets attributes ending in ``_``."""

    kind = "lightgbm"

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.06,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        calibration_months: int = 4,
        categorical: tuple[str, ...] = ("job_family",),
        feature_service: str = ATTRITION_SERVICE,
        alert_top_share: float = 0.10,
        alert_horizon: int = 3,
        num_threads: int = 0,
        random_state: int = 0,
        extra_trees: bool = False,
        max_cat_to_onehot: int = 4,
        reg_lambda: float = 1.0,
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
        self.extra_trees = extra_trees  # LightGBM's own defaults for these two
        self.max_cat_to_onehot = max_cat_to_onehot
        self.reg_lambda = reg_lambda

    # ------------------------------------------------------------------ fit
    def fit(self, rows: pd.DataFrame, feature_columns: list[str]) -> AttritionModel:
        """Fit on hazard rows: feature columns + ``months_ahead`` + ``label`` + ``event_timestamp``."""
        check_hazard_rows(rows, feature_columns)
        self.feature_service_ = self.feature_service
        self.feature_columns_ = list(feature_columns)
        self.columns_ = [*self.feature_columns_, MONTHS_AHEAD]
        self.categories_ = {
            c: sorted(rows[c].dropna().astype(str).unique().tolist()) for c in self.categorical if c in feature_columns
        }
        outcome = rows["event_timestamp"].dt.tz_convert(None).dt.to_period("M") + rows[MONTHS_AHEAD]
        cut = outcome.max() - self.calibration_months + 1
        late = (outcome >= cut).to_numpy()
        if late.all():
            span = outcome.nunique()
            raise ValueError(f"calibration_months={self.calibration_months} covers the whole training window "
                             f"({span} outcome months): use a smaller --calibration-months")
        X = self._matrix(rows)
        y = rows["label"].to_numpy()
        if len(np.unique(y)) < 2:
            raise ValueError("the training window holds no voluntary exit: there is nothing to learn from")
        w = rows["weight"].to_numpy(dtype=float) if "weight" in rows.columns else np.ones(len(rows))
        params = {
            "objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples, "feature_fraction": 0.9, "bagging_fraction": 0.8,
            "bagging_freq": 1, "lambda_l2": self.reg_lambda, "seed": self.random_state, "verbose": -1,
            "num_threads": self.num_threads, "extra_trees": self.extra_trees, "max_cat_to_onehot": self.max_cat_to_onehot,
        }
        train = lgb.Dataset(X[~late], y[~late], weight=w[~late], categorical_feature=list(self.categories_) or "auto")
        valid = lgb.Dataset(X[late], y[late], weight=w[late], reference=train)
        self.booster_ = lgb.train(params, train, self.n_estimators, valid_sets=[valid],
                                  callbacks=[lgb.early_stopping(30, verbose=False)])
        # a calibration slice with one class cannot fit a Platt map: fall back to the whole training window
        # (in-sample for the trees, so less honest; recorded in ``calibration_slice_`` and the model card)
        self.calibration_slice_ = "latest" if len(np.unique(y[late])) == 2 else "whole"
        calib = late if self.calibration_slice_ == "latest" else np.ones(len(rows), dtype=bool)
        raw = self.booster_.predict(X[calib], raw_score=True)
        self.platt_ = _fit_platt(raw, y[calib], w[calib])
        self.training_rows_ = int(len(rows))
        self.data_window_ = (str(rows["event_timestamp"].min().date()), str(rows["event_timestamp"].max().date()))
        first_month = late & (rows[MONTHS_AHEAD] == 0).to_numpy()
        if not first_month.any():
            first_month = (rows[MONTHS_AHEAD] == 0).to_numpy()
        self.policy_ = self._policy(rows.loc[first_month], w[first_month])
        return self

    def describe(self) -> dict[str, str]:
        """The model card's words for this model: its name, training setup and calibration."""
        slice_text = (f"the time-latest {self.calibration_months} outcome months (held out from the trees)"
                      if getattr(self, "calibration_slice_", "latest") == "latest" else
                      f"the whole training window, because the latest {self.calibration_months} outcome months "
                      "held only one class (in-sample for the trees, so less reliable)")
        return {
            "name": "LightGBM hazard",
            "setup": "LightGBM discrete-time hazard (binary objective on employee × month × months-ahead rows; "
                     "P(exit within h) = 1 − Π(1 − hazard)). Involuntary exits and months past the end of the data "
                     f"are censored. {self.booster_.current_iteration()} trees, {self.num_leaves} leaves, at least "
                     f"{self.min_child_samples} rows per leaf, L2 {self.reg_lambda}, learning rate "
                     f"{self.learning_rate}, early stopping on the last {self.calibration_months} outcome months. "
                     "Explanations are exact TreeSHAP.",
            "calibration": f"Platt map on the hazard log-odds, fitted on {slice_text}: slope {self.platt_[0]:.3f}, "
                           f"intercept {self.platt_[1]:.3f}.",
        }

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
        """The model's input frame (categoricals as ``pd.Categorical``): what ``fit`` trains on and what
        ``contributions`` returns. Prediction goes through :meth:`_array`, the same numbers as float64."""
        X = pd.DataFrame(index=range(len(df)))
        for c in self.feature_columns_:
            if c in getattr(self, "categories_", {}):
                X[c] = pd.Categorical(df[c].astype("string").to_numpy(), categories=self.categories_[c])
            else:
                X[c] = pd.to_numeric(df[c], errors="raise").astype("float64").to_numpy()
        X[MONTHS_AHEAD] = months_ahead if months_ahead is not None else df[MONTHS_AHEAD].to_numpy()
        return X

    def _array(self, df: pd.DataFrame, months_ahead: int | None = None) -> np.ndarray:
        """``_matrix(df, months_ahead)`` as the float64 matrix LightGBM itself makes of that frame, bit for bit.

        LightGBM turns a pandas frame into float64 with each categorical as its code in the booster's
        ``pandas_categorical`` (NaN when unknown); doing it here skips building the frame and LightGBM's
        per-call pandas handling. A request's few rows are read from one object view of the frame (looking up
        each column of a fresh frame is slow); a column with values other than Python numbers, None or text is
        converted as a column. This is the only way rows reach the booster for prediction and explanation.
        """
        n = len(df)
        if n == 0:  # as LightGBM says of an empty frame
            raise ValueError("Input data must be 2 dimensional and non empty.")
        codes = self._category_codes()
        view = _value_columns(df, self.feature_columns_) if n <= _SMALL_ROWS else None
        columns = []
        for j, c in enumerate(self.feature_columns_):
            column = None
            if view is not None:
                column = _codes_of(view[j], codes[c]) if c in codes else _plain_floats(view[j])
            if column is None:
                column = _codes(df[c], codes[c]) if c in codes else _floats(df[c])
            columns.append(column)
        X = np.empty((n, len(self.feature_columns_) + 1))
        if view is not None:
            X[:, :-1] = np.array(columns, dtype=np.float64).T  # None -> NaN
        else:
            for j, column in enumerate(columns):
                X[:, j] = column
        X[:, -1] = months_ahead if months_ahead is not None else df[MONTHS_AHEAD].to_numpy()
        return X

    def _category_codes(self) -> dict[str, dict[str, int]]:
        """Per categorical column, category -> the code LightGBM gives it (derived, not a fitted attribute, so
        models pickled before it existed work): the position in the booster's ``pandas_categorical`` of the
        categories ``_matrix`` keeps (``categories_``)."""
        categories = getattr(self, "categories_", {})
        names = [c for c in self.feature_columns_ if c in categories]
        if not names:
            return {}
        lgb_categories = getattr(self.booster_, "pandas_categorical", None)
        if lgb_categories is None:  # LightGBM then takes the frame's own categories
            lgb_categories = [categories[c] for c in names]
        if len(lgb_categories) != len(names):
            raise ValueError("train and valid dataset categorical_feature do not match.")
        out = {}
        for c, lgb_cats in zip(names, lgb_categories, strict=True):
            kept = set(categories[c])
            out[c] = {v: i for i, v in enumerate(lgb_cats) if v in kept}
        return out

    def _raw(self, X: np.ndarray, **kwargs) -> np.ndarray:
        """``booster_.predict`` on a float64 matrix (threads by :func:`_threads`)."""
        return self.booster_.predict(X, **kwargs, **_threads(len(X)))

    def _hazards(self, df: pd.DataFrame, max_h: int) -> np.ndarray:
        """Calibrated monthly hazards, rows × max_h."""
        return self._hazards_of(self._array(df, 0), max_h)

    def _hazards_of(self, X0: np.ndarray, max_h: int) -> np.ndarray:
        """``_hazards`` of the rows of ``_array(df, 0)``: the max_h months of every row in one prediction."""
        n = len(X0)
        raw = self._raw(_months_stacked(X0, max_h), raw_score=True).reshape(max_h, n).T
        return _sigmoid(self.platt_[0] * raw + self.platt_[1])

    def predict_risk(self, df: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> np.ndarray:
        """P(voluntary exit within h months) per row and horizon (rows × len(horizons))."""
        _check_horizons(horizons)
        return _compose(self._hazards(df, max(horizons)), horizons)

    def predict_frame(self, df: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> pd.DataFrame:
        """The pyfunc output: one ``risk_h<h>`` column per horizon."""
        risk = self.predict_risk(df, tuple(horizons))
        return pd.DataFrame(risk, columns=[f"risk_h{h}" for h in horizons])

    # ------------------------------------------------------------------ explain
    def contributions(self, df: pd.DataFrame, horizon: int = 3) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """Exact TreeSHAP averaged over the horizon's months: (base, contributions, X at k=0)."""
        base, contrib = self._contributions_of(self._array(df, 0), horizon)
        return base, contrib, self._matrix(df, 0)

    def _contributions_of(self, X0: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean over k < horizon of TreeSHAP at ``months_ahead = k``: one ``pred_contrib`` call for the k
        copies of the rows (TreeSHAP is per row, so the values are those of k calls), summed in k order."""
        n = len(X0)
        base = np.zeros(n)
        contrib = np.zeros((n, X0.shape[1]))
        per_call = max(1, _STACK_ROWS // max(n, 1))
        for k0 in range(0, horizon, per_call):
            ks = range(k0, min(horizon, k0 + per_call))
            stacked = _months_stacked(X0, len(ks), first=k0)
            b, c = tree_contributions(self.booster_, stacked, **_threads(len(stacked)))
            for i in range(len(ks)):
                base += b[i * n:(i + 1) * n] / horizon
                contrib += c[i * n:(i + 1) * n] / horizon
        return base, contrib

    def explain(self, df: pd.DataFrame, horizon: int = 3, lang: str = "en", top: int = 5) -> list[Explanation]:
        """Top drivers with reasons; ``months_ahead`` is part of the baseline, not a driver."""
        return self.explain_langs(df, horizon, (lang,), top)[lang]

    def explain_langs(self, df: pd.DataFrame, horizon: int = 3, langs: tuple[str, ...] = ("en", "zh"),
                      top: int = 5) -> dict[str, list[Explanation]]:
        """The same contributions worded in several languages (TreeSHAP computed once)."""
        X0 = self._array(df, 0)
        base, contrib = self._contributions_of(X0, horizon)
        columns, values = [*self.feature_columns_, MONTHS_AHEAD], self._values(X0)
        k_col = columns.index(MONTHS_AHEAD)
        base = base + contrib[:, k_col]
        contrib = np.delete(contrib, k_col, axis=1)
        columns = [c for c in columns if c != MONTHS_AHEAD]
        values = np.delete(values, k_col, axis=1)
        return {lang: explain_values(base, contrib, columns, values, DRIVERS, lang=lang, top=top, direction=1)
                for lang in langs}

    def _values(self, X0: np.ndarray) -> np.ndarray:
        """``_matrix(df, 0).to_numpy(dtype=object)`` from the float64 matrix: numbers as floats, a category
        as its name (NaN when unknown)."""
        values = X0.astype(object)
        for c, codes in self._category_codes().items():
            j = self.feature_columns_.index(c)
            name = {i: v for v, i in codes.items()}
            values[:, j] = [name.get(int(x), np.nan) if x == x else np.nan for x in X0[:, j]]
        return values

    # ------------------------------------------------------------------ what-if levers
    def levers(self, df: pd.DataFrame, horizon: int = 3) -> list[list[dict]]:
        """Model-based what-ifs (not causal effects): risk after each change that can still be made, per row;
        only changes that lower the risk by at least ``MIN_LEVER_CHANGE`` are listed. Every variant of every
        row is scored in one prediction from the model's hazards (an override of ``predict_risk`` does not
        reach them)."""
        _check_horizons((horizon,))
        n = len(df)
        active = [(name, lever) for name, lever in LEVERS.items() if set(lever.needs) <= set(self.feature_columns_)]
        shown = {name: lever.applies(df) for name, lever in active}
        active = [(name, lever) for name, lever in active if shown[name].any()]  # the others are not shown
        plain = df.reset_index(drop=True)
        blocks = [self._array(df, 0), *(self._array(lever.apply(plain), 0) for _, lever in active)]
        risk = _compose(self._hazards_of(np.concatenate(blocks), horizon), (horizon,))[:, 0]
        before = risk[:n]
        per_lever = {name: (lever, risk[(i + 1) * n:(i + 2) * n], shown[name]) for i, (name, lever) in enumerate(active)}
        out = []
        for i in range(len(df)):
            rows = []
            for name, (lever, after, applies) in per_lever.items():
                if not applies[i] or after[i] - before[i] > -MIN_LEVER_CHANGE:  # only levers worth showing
                    continue
                rows.append({
                    "lever": name, "description": dict(lever.description), "kind": dict(KIND),
                    "risk_before": float(before[i]), "risk_after": float(after[i]),
                    "change": float(after[i] - before[i]),
                })
            out.append(sorted(rows, key=lambda r: r["change"]))
        return out


_SMALL_ROWS = 64  # frames up to this many rows are read through one object view
_ONE_THREAD_ROWS = 2048  # predict calls up to this many rows run on one thread
_STACK_ROWS = 65536  # rows per pred_contrib call when the months of a horizon are stacked


def _threads(rows: int) -> dict:
    """A request's few rows predict on one thread: an OpenMP team per call only costs time there (and its
    spinning threads take the core of the other worker). Larger calls keep LightGBM's default."""
    return {"num_threads": 1} if rows <= _ONE_THREAD_ROWS else {}


def _months_stacked(X0: np.ndarray, months: int, first: int = 0) -> np.ndarray:
    """``months`` copies of X0 one under the other, ``months_ahead`` (last column) = first, first + 1, ..."""
    n = len(X0)
    stacked = np.tile(X0, (months, 1))
    stacked[:, -1] = np.repeat(np.arange(first, first + months, dtype=np.float64), n)
    return stacked


_EXACT_INT = 2**53  # integers up to this size are floats exactly, however converted


def _floats(col: pd.Series) -> np.ndarray:
    """``pd.to_numeric(col, errors="raise").astype("float64").to_numpy()``, without pandas for the column types
    the online store and the offline features hand over (numpy numbers; Python numbers with None; nullable
    integers and floats). Anything else takes that very expression."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return col.to_numpy()  # cast to float64 where it is stored, as astype("float64") casts
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = col.to_numpy()
        if _plain_floats(values) is not None:
            return np.array(values, dtype=np.float64)
    elif isinstance(col.array, (pd.arrays.IntegerArray, pd.arrays.FloatingArray)):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(col, errors="raise").astype("float64").to_numpy()


def _plain_floats(values: Sequence) -> Sequence | None:
    """``values`` when all are Python floats, integers exact as floats, or None (float64 makes them exactly
    what ``pd.to_numeric(...).astype("float64")`` makes, None -> NaN); None when some value is anything else."""
    if all(v is None or type(v) is float or (type(v) is int and -_EXACT_INT <= v <= _EXACT_INT) for v in values):
        return values
    return None


def _value_columns(df: pd.DataFrame, names: list[str]) -> list[list] | None:
    """The values of the columns ``names``, one list per column, from one object view of the frame (exact:
    numbers become Python numbers); None when a name is missing or repeated (column lookups then say why)."""
    at = {c: i for i, c in enumerate(df.columns)}
    if len(at) != df.shape[1] or any(c not in at for c in names):
        return None
    try:
        values = df.to_numpy(dtype=object)
    except (TypeError, ValueError):  # a column that has no object view: column by column
        return None
    return values[:, [at[c] for c in names]].T.tolist()


def _codes(col: pd.Series, codes: dict[str, int]) -> np.ndarray:
    """Category codes as float64 (NaN: missing or unknown), matching ``col.astype("string")`` categories."""
    found = _codes_of(col.to_numpy(), codes) if isinstance(col.dtype, np.dtype) and col.dtype.kind == "O" else None
    if found is None:  # numbers etc.: as pandas words them (missing -> pd.NA)
        found = [codes.get(v, np.nan) if isinstance(v, str) else np.nan for v in col.astype("string").to_numpy()]
    return np.array(found, dtype=np.float64)


def _codes_of(values: Sequence, codes: dict[str, int]) -> list[float] | None:
    """Codes of text values (None, NaN and pd.NA missing); None when some value is not text (pandas words it)."""
    out = []
    for v in values:
        if type(v) is str:
            out.append(codes.get(v, np.nan))
        elif v is None or v is pd.NA or (type(v) is float and v != v):
            out.append(np.nan)
        else:
            return None
    return out


def _check_horizons(horizons: tuple[int, ...]) -> None:
    bad = [h for h in horizons if h not in HORIZONS]
    if bad:
        raise ValueError(f"horizon_months must be between 1 and 12, got {bad}")


def _compose(q: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """P(exit within h) from monthly hazards q (rows × months), per row and horizon."""
    survival = np.cumprod(1.0 - q, axis=1)
    return np.column_stack([1.0 - survival[:, h - 1] for h in horizons])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _fit_platt(raw: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Logistic regression of the label on the raw log-odds: (slope, intercept)."""
    if len(np.unique(y)) < 2:
        raise ValueError("the calibration slice has only one class: use a larger --calibration-months")
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y, sample_weight=w)
    return (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
