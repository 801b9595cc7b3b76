"""Percentile bootstrap confidence intervals for any metric, by rows or by whole clusters.

``groups`` (one label per row, e.g. employee_id for monthly snapshots) makes every resample draw whole
clusters with replacement, so rows of one employee stay together. A resample on which the metric is
undefined (the metric raises ValueError, e.g. only one class drawn) is skipped and counted in
``n_skipped``; more than ``max_skipped_share`` of skipped resamples is an error. Other exceptions
propagate. Arrays may be numpy arrays, pandas Series or DataFrames (indexed by position).

Both functions return a ``BootstrapResult`` that unpacks as ``(estimate, lo, hi)``.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.metrics.constants import DEFAULT_ALPHA, DEFAULT_N_BOOT, DEFAULT_SEED, MAX_SKIPPED_SHARE


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimate on the full data, percentile interval and resample counts."""

    estimate: float
    lo: float
    hi: float
    n_boot: int
    n_skipped: int

    def __iter__(self) -> Iterator[float]:
        return iter((self.estimate, self.lo, self.hi))


def _length(arrays: tuple) -> int:
    if not arrays:
        raise ValueError("pass at least one array to resample")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"arrays must have the same length, got {sorted(lengths)}")
    n = lengths.pop()
    if n == 0:
        raise ValueError("arrays are empty")
    return n


def _take(array, idx: np.ndarray):
    if isinstance(array, pd.Series | pd.DataFrame):
        return array.iloc[idx].reset_index(drop=True)
    return np.asarray(array)[idx]


def _check_params(n_boot, alpha, max_skipped_share) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0 <= max_skipped_share < 1:
        raise ValueError(f"max_skipped_share must be in [0, 1), got {max_skipped_share!r}")


def _index_sampler(n: int, groups, rng: np.random.Generator) -> Callable[[], np.ndarray]:
    """A function drawing one resample's row positions (rows, or whole clusters of rows)."""
    if groups is None:
        return lambda: rng.integers(0, n, size=n)
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.size != n:
        raise ValueError(f"groups must be 1-D with one label per row ({n}), got shape {labels.shape}")
    codes, _ = pd.factorize(labels, use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(codes.max() + 2))
    members = [order[starts[c] : starts[c + 1]] for c in range(codes.max() + 1)]

    def draw() -> np.ndarray:
        picked = rng.integers(0, len(members), size=len(members))
        return np.concatenate([members[c] for c in picked])

    return draw


def _run(statistic: Callable[[np.ndarray], float], n, n_boot, alpha, seed, groups, max_skipped_share):
    _check_params(n_boot, alpha, max_skipped_share)
    estimate = float(statistic(np.arange(n)))
    draw = _index_sampler(n, groups, np.random.default_rng(seed))
    values = []
    for _ in range(n_boot):
        try:
            values.append(float(statistic(draw())))
        except ValueError:
            continue
    skipped = n_boot - len(values)
    if not values or skipped > max_skipped_share * n_boot:
        raise ValueError(
            f"the metric was undefined on {skipped} of {n_boot} resamples (more than "
            f"max_skipped_share={max_skipped_share}); use more data or resample by larger clusters"
        )
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(estimate, float(lo), float(hi), n_boot, skipped)


def bootstrap_ci(
    metric_fn: Callable[..., float],
    *arrays,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = DEFAULT_SEED,
    groups=None,
    max_skipped_share: float = MAX_SKIPPED_SHARE,
) -> BootstrapResult:
    """``metric_fn(*arrays)`` with a (1 - alpha) percentile interval; unpacks as (point, lo, hi)."""
    n = _length(arrays)
    return _run(
        lambda idx: metric_fn(*(_take(a, idx) for a in arrays)),
        n,
        n_boot,
        alpha,
        seed,
        groups,
        max_skipped_share,
    )


def paired_bootstrap_diff(
    metric_fn: Callable[..., float],
    y,
    p_a,
    p_b,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = DEFAULT_SEED,
    groups=None,
    max_skipped_share: float = MAX_SKIPPED_SHARE,
) -> BootstrapResult:
    """``metric_fn(y, p_a) - metric_fn(y, p_b)`` with an interval from resampling the same rows for both
    models; unpacks as (diff, lo, hi). An interval excluding 0 means the models differ at level alpha."""
    n = _length((y, p_a, p_b))

    def diff(idx: np.ndarray) -> float:
        y_i = _take(y, idx)
        return metric_fn(y_i, _take(p_a, idx)) - metric_fn(y_i, _take(p_b, idx))

    return _run(diff, n, n_boot, alpha, seed, groups, max_skipped_share)
