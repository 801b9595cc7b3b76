"""Where a failed fairness audit comes from: the outcome process, or the model.

The same audit (``evaluation.fairness_audit.audit_attrition``), with the same alert rule (risk at the alert
horizon >= the served model's ``min_risk``) on the same out-of-sample backtest rows, is run on every source of
risk the backtest scored: the served model, the logistic baseline, and on simulated data the *process* oracle
(the generating hazard on the observable state: the best any model of the observable data could do) and the
*full* oracle (the hazard with each person's latent terms).

For every group the served model fails, the oracles' impact ratio for the same group decides:

- **outcome-driven** when an oracle's impact ratio is also below four fifths: the true risk itself differs
  between the groups, so any accurate model with a common threshold alerts them unequally (the report gives the
  ratios and the true exit rates);
- **model-driven** otherwise: the oracles alert the group within four fifths of the reference and only the
  model does not. The report then names the features carrying the gap: for each feature, the reference group's
  mean SHAP contribution minus the failing group's (on the log-odds scale of the alert horizon), largest first,
  with the feature's Cramer's V against the protected attribute from the audit's proxy check.

Without oracle scores (real data) the verdict is ``model_or_outcome`` and the features are still named.
Everything returned is JSON-ready. ``docs/fairness.md`` shows a report.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evaluation.fairness_audit import (
    FOUR_FIFTHS_THRESHOLD,
    attribute_groups,
    audit_attrition,
    min_impact_ratio,
    to_jsonable,
)

SOURCES = {"model": "served model", "logistic": "logistic baseline", "process_oracle": "process oracle",
           "oracle": "full oracle"}
ORACLES = ("process_oracle", "oracle")
OUTCOME, MODEL, UNKNOWN = "outcome-driven", "model-driven", "model_or_outcome"
TOP_FEATURES = 5
Contributions = Callable[[pd.DataFrame], tuple[np.ndarray, list[str]]]  # rows -> (n × features, feature names)


def side_by_side(preds: pd.DataFrame, employees: pd.DataFrame, min_risk: float, horizon: int,
                 outcome_col: str = "label") -> dict[str, dict]:
    """The audit of every source in ``preds`` (columns ``p_<source>``) at ``horizon`` with one threshold."""
    at = preds[preds["horizon"] == horizon].reset_index(drop=True)
    audits = {}
    for source in SOURCES:
        col = f"p_{source}"
        if col not in at.columns or at[col].isna().all():
            continue
        scored = at[["employee_id", "event_timestamp", outcome_col]].assign(risk=at[col].clip(0, 1).to_numpy())
        audits[source] = audit_attrition(scored, employees, min_risk, outcome_col=outcome_col)
    return audits


def _key(group: dict) -> tuple:
    return tuple(sorted((str(k), str(v)) for k, v in group.items()))


def _group_row(audit: dict, family: str, group: dict) -> dict | None:
    block = audit.get("attributes", {}).get(family)
    if block is None:
        return None
    return next((g for g in block["groups"] if _key(g["group"]) == _key(group)), None)


def _reference(audit: dict, family: str) -> dict | None:
    block = audit.get("attributes", {}).get(family)
    return None if block is None else next((g for g in block["groups"] if g.get("is_reference")), None)


def attribute(audits: dict[str, dict], rows: pd.DataFrame | None = None, employees: pd.DataFrame | None = None,
              contributions: Contributions | None = None, proxies: dict | None = None,
              top: int = TOP_FEATURES) -> dict:
    """The attribution of the served model's failed groups (see the module docstring).

    ``audits``: :func:`side_by_side`'s result (``model`` required). ``rows``: the audited rows with the model's
    features (``employee_id``, ``event_timestamp`` and the feature columns) for ``contributions``, which returns
    the SHAP matrix of those rows and its feature names. ``proxies``: the audit's proxy check.
    """
    model = audits["model"]
    summary = {s: {"label": SOURCES[s], "passed": a["passed"], "min_impact_ratio": min_impact_ratio(a),
                   "failed": [{"family": f, "group": g} for f, b in a.get("attributes", {}).items()
                              for g in b["failed_groups"]]}
               for s, a in audits.items()}
    have_oracle = any(s in audits for s in ORACLES)
    shap = _shap_frame(rows, employees, contributions) if contributions is not None and rows is not None else None
    findings = []
    for family, block in model.get("attributes", {}).items():
        for group in block["failed_groups"]:
            findings.append(_finding(audits, family, group, have_oracle, shap, proxies, top))
    verdicts = {f["verdict"] for f in findings}
    verdict = ("passed" if not findings else next(iter(verdicts)) if len(verdicts) == 1 else "mixed")
    return to_jsonable({"horizon_rule": model.get("rule", {}).get("selection"), "min_risk": model.get("min_risk"),
                        "sources": summary, "findings": findings, "verdict": verdict,
                        "text": _text(verdict, findings)})


def _finding(audits: dict, family: str, group: dict, have_oracle: bool, shap: pd.DataFrame | None,
             proxies: dict | None, top: int) -> dict:
    ref = _reference(audits["model"], family)
    row = _group_row(audits["model"], family, group)
    ratios, statuses = {}, {}
    for source, audit in audits.items():
        found = _group_row(audit, family, group)
        ratios[source] = None if found is None else found.get("impact_ratio")
        statuses[source] = None if found is None else found.get("status")
    oracle_low = [s for s in ORACLES if ratios.get(s) is not None and ratios[s] < FOUR_FIFTHS_THRESHOLD]
    verdict = OUTCOME if oracle_low else (MODEL if have_oracle else UNKNOWN)
    finding = {
        "family": family, "group": group, "reference": None if ref is None else ref["group"],
        "impact_ratio": ratios, "status": statuses,
        "outcome_rate": row.get("outcome_rate") if row else None,
        "reference_outcome_rate": ref.get("outcome_rate") if ref else None,
        "oracles_below_four_fifths": oracle_low, "verdict": verdict,
    }
    if verdict != OUTCOME and shap is not None and ref is not None:
        finding["features"] = _carriers(shap, family, group, ref["group"], proxies, top)
    return finding


def _shap_frame(rows: pd.DataFrame, employees: pd.DataFrame, contributions: Contributions) -> pd.DataFrame:
    """Per audited row: its group columns and one ``shap:<feature>`` column per feature."""
    contrib, names = contributions(rows)
    people = rows[["employee_id", "event_timestamp"]].assign(employee_id=rows["employee_id"].astype(str))
    attrs = [c for c in employees.columns if c != "employee_id"]
    people = people.merge(employees.assign(employee_id=employees["employee_id"].astype(str))[["employee_id", *attrs]],
                          on="employee_id", how="left")
    groups, _ = attribute_groups(people)
    shap = pd.DataFrame(contrib, columns=[f"shap:{n}" for n in names])
    return pd.concat([groups.reset_index(drop=True), shap], axis=1)


def _carriers(shap: pd.DataFrame, family: str, group: dict, reference: dict, proxies: dict | None,
              top: int) -> list[dict]:
    def mask(g: dict) -> np.ndarray:
        m = np.ones(len(shap), dtype=bool)
        for col, value in g.items():
            m &= shap[col].astype(str).to_numpy() == str(value)
        return m

    cols = [c for c in shap.columns if c.startswith("shap:")]
    mine, ref = shap.loc[mask(group), cols], shap.loc[mask(reference), cols]
    if mine.empty or ref.empty:
        return []
    gap = (ref.mean() - mine.mean()).sort_values(ascending=False)
    attrs = {"age_band": "birth_year"}
    wanted = {attrs.get(c, c) for c in group}
    out = []
    for col, value in gap.head(top).items():
        feature = col.removeprefix("shap:")
        v = [p["cramers_v"] for p in (proxies or {}).get("pairs", []) if p["feature"] == feature
             and p["attribute"] in wanted]
        out.append({"feature": feature, "shap_gap": float(value), "group_mean": float(mine[col].mean()),
                    "reference_mean": float(ref[col].mean()), "cramers_v": max(v) if v else None,
                    "flagged_proxy": bool(v and max(v) >= (proxies or {}).get("threshold", 1.0) - 1e-9)})
    return out


def _name(group: dict) -> str:
    return " × ".join(str(v) for v in group.values())


def _text(verdict: str, findings: list[dict]) -> str:
    if not findings:
        return "The served model passes its fairness audit; there is no gap to attribute."
    parts = []
    for f in findings:
        r = f["impact_ratio"]
        head = (f"{_name(f['group'])} ({f['family']}) is alerted at {r['model']:.2f} of the rate of "
                f"{_name(f['reference'] or {})}")
        rates = ""
        if f["outcome_rate"] is not None and f["reference_outcome_rate"]:
            rates = (f"; true exit rates {f['outcome_rate']:.2%} vs {f['reference_outcome_rate']:.2%}")
        oracles = ", ".join(f"{SOURCES[s]} {r[s]:.2f}" for s in ORACLES if r.get(s) is not None)
        if f["verdict"] == OUTCOME:
            low = f["oracles_below_four_fifths"]
            parts.append(f"{head}, and the {' and the '.join(SOURCES[s] for s in low)} also "
                         f"{'fall' if len(low) > 1 else 'falls'} below four fifths ({oracles}){rates}: the disparity "
                         "comes from the outcome process (the true risks differ in the tail the threshold selects), "
                         "not from the model.")
        else:
            carriers = ", ".join(
                f"{c['feature']} (SHAP gap {c['shap_gap']:+.3f}"
                + (f", Cramer's V {c['cramers_v']:.2f}" if c["cramers_v"] is not None else "") + ")"
                for c in f.get("features", [])[:3])
            lead = (f"while the oracles stay within four fifths ({oracles})" if f["verdict"] == MODEL
                    else "(no oracle on real data: the process cannot be separated from the model)")
            parts.append(f"{head} {lead}{rates}: the model creates the gap" if f["verdict"] == MODEL
                         else f"{head} {lead}{rates}.")
            if carriers:
                parts[-1] += f"; the features carrying it: {carriers}."
            else:
                parts[-1] += "."
    return " ".join(parts)


def render_markdown(attribution: dict) -> str:
    """The side-by-side table (one row per source) and one row per failed group with every source's ratio."""
    lines = ["# Fairness attribution", "",
             f"Same audit, same alert rule ({attribution['horizon_rule']}, min_risk "
             f"{attribution['min_risk']:.4f}) on the same backtest rows.", "",
             "| source | audit | lowest impact ratio | failed groups |", "|---|---|---|---|"]
    for s in attribution["sources"].values():
        failed = "; ".join(f"{f['family']}: {_name(f['group'])}" for f in s["failed"]) or "–"
        lines.append(f"| {s['label']} | {'passed' if s['passed'] else 'FAILED'} | {s['min_impact_ratio']:.3f} | "
                     f"{failed} |")
    if attribution["findings"]:
        names = list(attribution["sources"])
        lines += ["", "| group | " + " | ".join(f"{SOURCES[n]} ratio" for n in names)
                  + " | exit rate (group / reference) | verdict |", "|---" * (len(names) + 3) + "|"]
        for f in attribution["findings"]:
            ratios = [f"{f['impact_ratio'][n]:.3f}" if f["impact_ratio"].get(n) is not None else "–" for n in names]
            rates = ("–" if f["outcome_rate"] is None or f["reference_outcome_rate"] is None
                     else f"{f['outcome_rate']:.2%} / {f['reference_outcome_rate']:.2%}")
            lines.append(f"| {f['family']}: {_name(f['group'])} | " + " | ".join(ratios) + f" | {rates} | "
                         f"{f['verdict']} |")
        carriers = [(f, c) for f in attribution["findings"] for c in f.get("features", [])]
        if carriers:
            lines += ["", "| group | feature | mean SHAP: reference − group | Cramer's V with the attribute | proxy |",
                      "|---|---|---|---|---|"]
            for f, c in carriers:
                v = "–" if c["cramers_v"] is None else f"{c['cramers_v']:.2f}"
                lines.append(f"| {_name(f['group'])} | {c['feature']} | {c['shap_gap']:+.4f} | {v} | "
                             f"{'flagged' if c['flagged_proxy'] else ''} |")
    lines += ["", attribution["text"]]
    return "\n".join(lines) + "\n"


def attribute_backtest(preds: pd.DataFrame, employees: pd.DataFrame, model, snaps: pd.DataFrame,
                       columns: list[str], proxies: dict | None = None, max_rows: int = 4000, seed: int = 0) -> dict:
    """:func:`attribute` on a training job's backtest: every source of ``preds`` audited with ``model``'s alert
    rule, the served ``model``'s SHAP contributions on (a sample of) the audited rows' features in ``snaps``."""
    h, min_risk = model.policy_.horizon, model.policy_.min_risk
    audits = side_by_side(preds, employees, min_risk, h)
    keys = ["employee_id", "event_timestamp"]
    rows = preds.loc[preds["horizon"] == h, keys].merge(snaps[[*keys, *columns]], on=keys, how="inner")
    if len(rows) > max_rows:
        rows = rows.sample(max_rows, random_state=seed)
    rows = rows.reset_index(drop=True)

    def contributions(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        _, contrib, X0 = model.contributions(frame, horizon=h)
        names = list(X0.columns)[: contrib.shape[1]]
        keep = [i for i, n in enumerate(names) if n in columns]  # the tree's months-ahead input is no feature
        return contrib[:, keep], [names[i] for i in keep]

    try:
        model.contributions(rows.head(2), horizon=h)
        explain: Contributions | None = contributions
    except NotImplementedError:  # the tenure hazard has no per-feature contributions
        explain = None
    return attribute(audits, rows, employees, explain, proxies)
