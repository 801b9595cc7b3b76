"""Exact TreeSHAP explanations shared by the three models.

Contributions come from LightGBM's own exact TreeSHAP (``pred_contrib=True``): for every row, the
contributions plus the base value equal the raw score (log-odds for a binary model, the raw value for
regression / ranking). The serving API returns one schema for every model:

``{"base_value", "contributions": [{"feature", "display_name", "value", "contribution"}], "reasons"}``

Columns that came from one source field (one-hot or derived groups) can be grouped into one driver with
``groups``. Reason texts are produced by the model that owns the features (its ``Driver`` table), in
English or Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Contribution:
    feature: str
    display_name: str
    value: object
    contribution: float


@dataclass(frozen=True)
class Explanation:
    base_value: float
    contributions: list[Contribution]
    reasons: list[str] = field(default_factory=list)
    total: float = 0.0  # sum of all contributions, including those not kept in ``contributions``

    @property
    def raw_score(self) -> float:
        """Base value plus every contribution: equals the model's raw score for the row."""
        return self.base_value + self.total

    def to_dict(self) -> dict:
        return {
            "base_value": self.base_value,
            "contributions": [c.__dict__ for c in self.contributions],
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class StoredExplanation:
    """An explanation as batch scoring stores it (JSON in the application database): the top contributions
    once, the reasons in every language, so a later request in either language is answered without the model.
    ``raw_score`` is not kept (only the top contributions are), so it is unknown when read back."""

    base_value: float
    contributions: tuple[Contribution, ...]
    reasons: Mapping[str, tuple[str, ...]]  # language -> sentences, strongest driver first

    @classmethod
    def of(cls, by_lang: Mapping[str, Explanation]) -> StoredExplanation:
        """From one row's explanation in several languages (same contributions, reasons per language)."""
        first = next(iter(by_lang.values()))
        return cls(first.base_value, tuple(first.contributions),
                   {lang: tuple(e.reasons) for lang, e in by_lang.items()})

    @classmethod
    def from_dict(cls, d: Mapping) -> StoredExplanation:
        """From the stored JSON. Rows stored before reasons were kept per language hold one English list."""
        reasons = d.get("reasons") or {}
        if not isinstance(reasons, Mapping):
            reasons = {"en": reasons}
        return cls(float(d["base_value"]),
                   tuple(Contribution(c["feature"], c["display_name"], c.get("value"), float(c["contribution"]))
                         for c in d.get("contributions", ())),
                   {lang: tuple(texts) for lang, texts in reasons.items()})

    def to_dict(self) -> dict:
        return {"base_value": self.base_value, "contributions": [c.__dict__ for c in self.contributions],
                "reasons": {lang: list(texts) for lang, texts in self.reasons.items()}}

    def reasons_in(self, lang: str) -> list[str]:
        """The reasons in ``lang``, in English when that language was not stored."""
        return list(self.reasons.get(lang) or self.reasons.get("en") or ())

    def in_lang(self, lang: str, drivers: Mapping[str, Driver] | None = None) -> Explanation:
        """As an :class:`Explanation` in ``lang`` (driver names from ``drivers`` when the feature has one)."""
        def name(c: Contribution) -> str:
            driver = (drivers or {}).get(c.feature)
            return driver.name(lang) if driver is not None else c.display_name

        return Explanation(self.base_value, [Contribution(c.feature, name(c), c.value, c.contribution)
                                             for c in self.contributions], self.reasons_in(lang),
                           total=float("nan"))


@dataclass(frozen=True)
class Driver:
    """How one feature is named and worded for people.

    ``text`` maps a language to a function of the feature's value that returns a sentence, e.g.
    ``lambda v: f"pay {abs(v):.0%} below band midpoint"``; a text may be None (nothing worth saying, e.g. a
    missing value), and is then left out of the reasons. A driver whose sentence also reads other inputs names
    them in ``uses``; its functions then take ``(value, row)`` with ``row`` those inputs' values.
    """

    display_name: Mapping[str, str]
    text: Mapping[str, Callable[..., str | None]]
    uses: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.display_name.get(lang) or self.display_name["en"]

    def reason(self, value: object, lang: str, row: Mapping[str, object] | None = None) -> str | None:
        fn = self.text.get(lang) or self.text["en"]
        return fn(value, row or {}) if self.uses else fn(value)


def tree_contributions(booster, X: pd.DataFrame | np.ndarray, **predict_params) -> tuple[np.ndarray, np.ndarray]:
    """Exact TreeSHAP from LightGBM: returns (base values per row, contributions rows × columns).

    Additive by construction: ``base + contrib.sum(axis=1) == booster.predict(X, raw_score=True)``.
    Multi-output models are not used here. ``predict_params`` go to ``booster.predict`` (e.g. ``num_threads``).
    """
    out = booster.predict(X, pred_contrib=True, **predict_params)
    out = np.asarray(out, dtype=float)
    if out.ndim != 2 or out.shape[1] != X.shape[1] + 1:
        raise ValueError(f"pred_contrib returned shape {out.shape} for {X.shape[1]} columns")
    return out[:, -1], out[:, :-1]


def explain_rows(
    base: np.ndarray,
    contrib: np.ndarray,
    X: pd.DataFrame,
    drivers: Mapping[str, Driver],
    lang: str = "en",
    top: int = 5,
    groups: Mapping[str, Sequence[str]] | None = None,
    direction: int = 0,
) -> list[Explanation]:
    """Turn a contribution matrix into per-row explanations with the top drivers and reason texts.

    ``groups`` maps a driver name to the columns it sums (columns in no group are their own driver).
    ``direction`` > 0 keeps only drivers that raise the score in ``reasons`` (what pushes risk up);
    contributions always list the top drivers by absolute size.
    """
    return explain_values(base, contrib, list(X.columns), X.to_numpy(dtype=object), drivers, lang=lang, top=top,
                          groups=groups, direction=direction)


def explain_values(
    base: np.ndarray,
    contrib: np.ndarray,
    columns: Sequence[str],
    values: np.ndarray,
    drivers: Mapping[str, Driver],
    lang: str = "en",
    top: int = 5,
    groups: Mapping[str, Sequence[str]] | None = None,
    direction: int = 0,
) -> list[Explanation]:
    """:func:`explain_rows` with the inputs given as column names and a rows × columns object array of values
    (what ``X.to_numpy(dtype=object)`` gives), for callers that hold no frame."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    columns = list(columns)
    grouped: dict[str, list[int]] = {}
    member = {c for cols in (groups or {}).values() for c in cols}
    for name, cols in (groups or {}).items():
        grouped[name] = [columns.index(c) for c in cols if c in columns]
    for i, c in enumerate(columns):
        if c not in member:
            grouped[c] = [i]
    names = list(grouped)
    if groups:
        G = np.column_stack([contrib[:, idx].sum(axis=1) for idx in grouped.values()])
    else:  # every column its own driver: a sum of one term is 0.0 + the term (so -0.0 becomes 0.0 as it did)
        G = 0.0 + np.asarray(contrib, dtype=float)[:, [idx[0] for idx in grouped.values()]]
    tops = np.argsort(-np.abs(G), axis=1, kind="stable")[:, :top]
    driver_of = [drivers.get(n) for n in names]
    display_of = [d.name(lang) if d else n for d, n in zip(driver_of, names, strict=True)]
    position = {c: i for i, c in enumerate(columns)}
    explanations = []
    for r in range(len(values)):
        items, reasons = [], []
        for j in tops[r]:
            name = names[j]
            value = _plain(values[r, grouped[name][0]])
            driver = driver_of[j]
            items.append(Contribution(name, display_of[j], value, float(G[r, j])))
            if driver is not None and (direction == 0 or np.sign(G[r, j]) == np.sign(direction)):
                row = {c: _plain(values[r, position[c]]) for c in driver.uses if c in position}
                text = driver.reason(value, lang, row)
                if text:
                    reasons.append(text)
        explanations.append(Explanation(float(base[r]), items, reasons, total=float(contrib[r].sum())))
    return explanations


def _plain(v: object) -> object:
    """JSON-friendly scalar: numpy numbers to Python numbers, NaN / NA to None."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v
