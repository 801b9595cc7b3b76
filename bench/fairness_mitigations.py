"""Each fairness mitigation of the attrition model on the same backtest: ROC-AUC, calibration (ECE) and the
fairness audit's lowest impact ratio side by side, and the audit's attribution (outcome- or model-driven).

    TALENTLOOP_HOME=<a workspace with features built> .venv/bin/python -m bench.fairness_mitigations [--only NAME]

Every run is a real ``talentloop train attrition [--mitigation NAME]``: it registers a challenger version in the
workspace (the champion is not moved). Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import time

from evaluation.fairness_audit import gated_results
from features.settings import Settings
from models.attrition.mitigation import MITIGATIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["none", *MITIGATIONS])
    args = parser.parse_args()
    import json

    import mlflow

    from training_jobs import attrition
    from training_jobs.tracking import configure

    settings = Settings()
    client = configure(settings)
    rows = []
    for name in args.only or ["none", *MITIGATIONS]:
        started = time.time()
        result = attrition.run(settings, mitigation=None if name == "none" else name)
        run = client.get_run(result["run_id"])
        m = run.data.metrics
        audit = json.loads(mlflow.artifacts.load_text(f"runs:/{result['run_id']}/fairness/audit.json"))
        worst = min(gated_results(audit), key=lambda wg: wg[1]["impact_ratio"], default=None)
        worst_text = "–" if worst is None else f"{worst[0]}: {' x '.join(map(str, worst[1]['group'].values()))}"
        dropped = ", ".join(result["mitigation"].get("dropped", [])) or "–"
        rows.append([name, result["version"], result["chosen"], f"{m['model_h3_roc_auc']:.3f}",
                     f"{m['model_h3_ece']:.4f}", f"{m['fairness_min_impact_ratio']:.3f}", worst_text,
                     "passed" if audit["passed"] else "FAILED", audit.get("attribution", {}).get("verdict", "–"),
                     dropped, f"{time.time() - started:.0f}"])
    header = ["mitigation", "version", "chosen", "ROC-AUC h3", "ECE h3", "lowest impact ratio", "lowest group",
              "audit", "attribution", "dropped features", "seconds"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
