"""Markdown model cards: one fixed set of sections for every registered version."""

from __future__ import annotations

import pandas as pd

from evaluation.fairness_audit import gated_results

SECTIONS = (
    "Purpose", "Data window", "Features", "Training setup", "Metrics vs baselines", "Calibration",
    "Fairness audit", "Known limitations", "Intended uses", "Out-of-scope uses",
)


def render(title: str, sections: dict[str, str]) -> str:
    """A card with every section in order; a section not given says so rather than disappearing."""
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown model-card sections {sorted(unknown)}; sections are {SECTIONS}")
    parts = [f"# {title}\n"]
    for name in SECTIONS:
        parts.append(f"## {name}\n\n{sections.get(name, '_Not recorded for this version._').strip()}\n")
    return "\n".join(parts)


def markdown_table(df: pd.DataFrame) -> str:
    """A frame as a Markdown table, floats to three decimals."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def fairness_section(audit: dict | None, what: str) -> str:
    """The card's summary of a fairness audit (the full tables are the run's ``fairness/audit.md``)."""
    if audit is None:
        return "_No fairness audit was recorded for this version._"
    if audit.get("note") and not audit.get("attributes"):
        return (f"Four-fifths audit of {what}: {audit['note']} ({audit['n']:,} rows). "
                "Full tables: `fairness/audit.md` in this run.")
    gated = list(gated_results(audit))
    worst = min(gated, key=lambda fg: fg[1]["impact_ratio"], default=None)
    lines = [f"Four-fifths audit of {what}: **{'passed' if audit['passed'] else 'FAILED'}** "
             f"({audit['n']:,} rows, {audit['selected']:,} selected, as of {audit['as_of']})."]
    if worst is not None:
        fam, g = worst
        label = " / ".join(str(v) for v in g["group"].values())
        lines.append(f"Lowest impact ratio among gated groups: {g['impact_ratio']:.3f} ({fam}: {label}, "
                     f"status {g['status']}).")
    failed = [f"{fam}: " + ", ".join(" / ".join(str(v) for v in grp.values()) for grp in block["failed_groups"])
              for fam, block in audit["attributes"].items() if block["failed_groups"]]
    if failed:
        lines.append("Failing groups: " + "; ".join(failed) + ".")
    flagged = audit.get("proxies", {}).get("flagged", [])
    if flagged:
        lines.append("Possible proxies of a protected attribute (Cramér's V ≥ "
                     f"{audit['proxies']['threshold']}): "
                     + ", ".join(f"`{p['feature']}`~{p['attribute']} ({p['cramers_v']:.2f})" for p in flagged) + ".")
    else:
        lines.append("No model feature is a likely proxy of a protected attribute.")
    lines.append("Full tables: `fairness/audit.md` (and `fairness/audit.json`) in this run.")
    return " ".join(lines)


ORACLES = ("; `oracle`: the simulator's true hazard, which knows each person's realised latent outside pull and "
           "engagement (a ceiling no model can reach); `process_oracle` (when the truth allows it): the generating "
           "process with those latent terms integrated out over their law, given only the observable state "
           "(the fair ceiling); `profile_oracle` (on a simulated export that drops feeds, e.g. no reviews or no "
           "learning): the process oracle with the parts of the observable state those feeds carry integrated out "
           "too, the fair ceiling for that export. `roc_auc_vs_oracle`, `roc_auc_vs_process_oracle` and "
           "`roc_auc_vs_profile_oracle` are the ratios to each.")


def attrition_card(model, summary: pd.DataFrame, columns: list[str], end: pd.Timestamp, has_oracle: bool,
                   audit: dict | None = None, selection: dict | None = None, leakage: str | None = None,
                   warnings: tuple[str, ...] = ()) -> str:
    """The attrition card. ``model`` is any registrable attrition model (its ``describe()`` words the setup);
    ``selection`` is :func:`evaluation.model_selection.choose`'s result, ``leakage`` the leakage section."""
    from evaluation.model_selection import selection_table

    keep = [c for c in ("horizon", "method", "folds", "roc_auc", "pr_auc", "precision_at_top_10pct",
                        "recall_at_top_10pct", "brier", "ece", "roc_auc_vs_oracle", "roc_auc_vs_process_oracle",
                        "roc_auc_vs_profile_oracle")
            if c in summary.columns]
    table = markdown_table(summary[keep])
    words = model.describe()
    chosen = ""
    if selection is not None:
        chosen = (f"\n\n**Chosen model: {words['name']}.** Every candidate was backtested on the same folds; the "
                  f"registered one is the best by ROC-AUC at the alert horizon h={selection['horizon']}, a simpler "
                  f"candidate winning ties within {selection['tie']}: {selection['reason']}.\n\n"
                  + selection_table(selection))
    notes = "".join(f"\n\nNote: {w}." for w in warnings)
    return render("Attrition risk (attrition)", {
        "Purpose": "Estimate each active employee's probability of leaving voluntarily within 1-12 months, "
                   "explain the drivers, and show model-based what-ifs, so HR partners can act early.",
        "Data window": f"Monthly snapshots from {model.data_window_[0]} to {model.data_window_[1]}; outcomes observed "
                       f"until {end.date()}. Training rows: {model.training_rows_:,} (employee × month × months ahead).",
        "Features": f"Feature service `{model.feature_service_}` ({len(columns)} columns offered to the candidates, "
                    f"{len(model.feature_columns_)} used by the chosen model): "
                    + ", ".join(f"`{c}`" for c in columns)
                    + ". Protected attributes (sex, age, ethnicity, marital status, nationality) are not inputs."
                    + ("\n\n" + leakage if leakage else ""),
        "Training setup": words["setup"] + chosen,
        "Metrics vs baselines": "Rolling-origin backtest (mean over folds); `model` is the chosen candidate. "
                                "Candidates and baselines: LightGBM; logistic regression on the same features; "
                                "tenure-only Kaplan-Meier hazard"
                                + (ORACLES if has_oracle else ".") + notes + "\n\n" + table,
        "Calibration": words["calibration"] + " Expected calibration error per horizon is in the table above. "
                       f"Alert policy: risk at h={model.policy_.horizon} ≥ {model.policy_.min_risk:.3f} or top "
                       f"{model.policy_.top_share:.0%} of an org unit.",
        "Fairness audit": fairness_section(audit, "alerts (risk at the alert horizon ≥ min_risk) on the "
                                                  "backtest's out-of-sample snapshots"),
        "Known limitations": "Associations, not causes: drivers and what-if levers describe the model, not the effect "
                             "of an intervention. Unobserved reasons to leave (outside offers, personal events) are "
                             "not in the data. Long horizons are scored on fewer folds. A company whose data differs "
                             "from its history (reorganisation, new pay policy) needs retraining.",
        "Intended uses": "Prioritising stay conversations and retention reviews by HR partners, with the explanation "
                         "in view; aggregate planning of expected leavers.",
        "Out-of-scope uses": "Any automated decision about an individual (pay, promotion, dismissal, hiring); use "
                             "without human review; use on populations unlike the training data.",
    })
