"""Compare, promote and the deployment log: the registry moves a data scientist makes after training.

- :func:`compare_versions` compares the champion with its challengers (``evaluation.compare``) and logs the
  table as a run of the model's experiment (tag ``talentloop.kind = comparison``), so the MLflow UI shows it.
- :func:`promote` moves alias ``champion`` to a version only when the gate passes (or with ``force`` and a
  reason), and appends the attempt to the deployment log whatever the outcome.
- The deployment log is the MLflow experiment ``deployments``: one run per attempt, never edited, its tags
  (model, sequence number, who, when, from, to, action, gate result, reason) forming the table the UI
  shows, with the full gate report as ``gate.json``. The registered model's tags name the current
  champion, since when and by whom.
"""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import mlflow
import pandas as pd

from evaluation.compare import (
    CHALLENGER,
    CHAMPION,
    N_BOOT,
    SPECS,
    ModelSpec,
    aliases,
    compare,
    gate,
    render_markdown,
    spec_for,
    versions_to_compare,
)
from features.settings import Settings
from training_jobs.tracking import configure, experiment, log_json, log_markdown

DEPLOYMENTS_EXPERIMENT = "deployments"
PROMOTED, REFUSED, FORCED = "promoted", "refused", "forced"
EVENT_FIELDS = ("seq", "model", "at", "by", "action", "from_version", "to_version", "candidate", "gate_passed",
                "reason", "gate_summary")


def operator(by: str | None = None) -> str:
    """Who acts: ``by``, else ``TALENTLOOP_USER``, else the login name."""
    return by or os.environ.get("TALENTLOOP_USER") or getpass.getuser()


# ---------------------------------------------------------------------------------------------- compare
def compare_versions(settings: Settings, model: str, versions: list[str] | None = None, n_boot: int = N_BOOT,
                     log: bool = True) -> dict:
    """Champion vs challengers (or ``versions``) side by side; logged to MLflow unless ``log`` is False.

    Returns the comparison with ``markdown`` (the table) and, when logged, ``comparison_run_id``.
    """
    spec = spec_for(model)
    client = configure(settings)
    chosen = versions_to_compare(client, spec.name, versions)
    result = compare(spec, chosen, n_boot=n_boot)
    result["markdown"] = render_markdown(result)
    if spec.name == "course_ranker":  # when recommendations were logged: IPS / DR gains on the log
        from training_jobs import off_policy

        section = off_policy.for_compare(settings, spec.name, [v.version for v in chosen])
        if section is not None:
            result["off_policy"] = section
            result["markdown"] += "\n\n" + off_policy.render(section)
    if log:
        experiment(settings, spec.name)
        names = " vs ".join(f"v{v.version}" for v in chosen)
        with mlflow.start_run(run_name=f"compare {names}", tags={"talentloop.kind": "comparison"}) as run:
            mlflow.log_params({"versions": ",".join(v.version for v in chosen), "primary": spec.primary,
                               "tolerance": spec.tolerance, "n_boot": n_boot})
            log_json({k: v for k, v in result.items() if k != "markdown"}, "comparison.json")
            log_markdown(result["markdown"], "comparison.md")
        result["comparison_run_id"] = run.info.run_id
        for v in chosen:
            client.set_model_version_tag(spec.name, v.version, "last_comparison_run", run.info.run_id)
    return result


# ---------------------------------------------------------------------------------------------- promote
def promote(settings: Settings, model: str | ModelSpec, version: str, force: bool = False, reason: str | None = None,
            by: str | None = None, n_boot: int = N_BOOT) -> dict:
    """Move ``champion`` to ``version`` if the gate passes (or ``force`` with a ``reason``); log the attempt.

    Returns the deployment event (``action`` is ``promoted``, ``refused`` or ``forced``) with the gate report.
    Raises ValueError for a version that does not exist, is already champion, or a force without a reason.
    """
    spec = model if isinstance(model, ModelSpec) else spec_for(model)
    version = str(version)
    if force and not (reason or "").strip():
        raise ValueError("--force needs --reason: say why the gate is overridden")
    client = configure(settings)
    if not _exists(client, spec.name, version):
        raise ValueError(f"model {spec.name!r} has no version {version!r}: `talentloop compare` lists the versions")
    current = aliases(client, spec.name)
    champion = current.get(CHAMPION)
    if champion == version:
        raise ValueError(f"version {version} of {spec.name} is already the champion")

    try:
        comparison = compare(spec, versions_to_compare(client, spec.name, [version]), n_boot=n_boot)
        report = gate(comparison, version)
    except ValueError as exc:  # e.g. the candidate logged no evaluation units
        comparison, report = None, {"candidate": version, "champion": champion, "passed": False,
                                    "metric_passed": False, "fairness_passed": False, "improvement": None,
                                    "reasons": [f"the gate could not be evaluated: {exc}"]}
    action = PROMOTED if report["passed"] else (FORCED if force else REFUSED)
    now = pd.Timestamp.now(tz="UTC")
    who = operator(by)
    _tag_status(client, spec, version, report, action, now, who, (reason or "").strip())
    if action != REFUSED:
        client.set_registered_model_alias(spec.name, CHAMPION, version)
        if current.get(CHALLENGER) == version:
            client.delete_registered_model_alias(spec.name, CHALLENGER)
        client.set_registered_model_tag(spec.name, "champion_since", now.isoformat())
        client.set_registered_model_tag(spec.name, "champion_set_by", who)
        client.set_model_version_tag(spec.name, version, "promoted_at", now.isoformat())
        client.set_model_version_tag(spec.name, version, "promotion", action)
    event = {
        "model": spec.name, "at": now.isoformat(), "by": who, "action": action,
        "from_version": champion or "", "to_version": version if action != REFUSED else (champion or ""),
        "candidate": version, "gate_passed": report["passed"], "reason": (reason or "").strip(),
        "gate_summary": "; ".join(report["reasons"]),
    }
    event["seq"] = _append(settings, event, {"gate": report, "comparison": comparison})
    return {**event, "gate": report}


def gate_new_version(settings: Settings, model: str, version: str, by: str | None = None) -> dict | None:
    """The gate for a version a training job has just registered, when the model has no champion yet.

    The first version of a model becomes champion only through :func:`promote` (the same gate as every later
    one: not worse than its strongest baseline, fairness audit passed), and the attempt opens the deployment
    log. Returns the deployment event, or None when a champion exists (the version stays ``challenger`` for
    ``talentloop compare`` and ``talentloop promote``). A registered name without a spec of its own (a
    forecaster of a customer's ``--series``) is gated as ``skill_demand`` is.
    """
    spec = SPECS.get(model) or (spec_for(model) if model in ("course-ranker", "skill-demand") else None)
    if spec is None:
        from dataclasses import replace

        spec = replace(SPECS["skill_demand"], name=model)
    client = configure(settings)
    if CHAMPION in aliases(client, spec.name):
        return None
    return promote(settings, spec, version, by=by)


def _outcome_record(run_id: str | None, metric_passed: bool, fairness: str) -> dict | None:
    """The outcome-driven exception record (``models.wording.governance.exception_record``) of a version whose
    only failed check is its fairness audit and whose audit's attribution found every failed group
    outcome-driven; None otherwise."""
    from models.wording.governance import OUTCOME_DRIVEN, exception_record

    if not run_id or not metric_passed or fairness != "failed":
        return None
    try:
        audit = json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/fairness/audit.json"))
    except Exception:  # noqa: BLE001 - no audit artifact: no grounds for an exception
        return None
    attribution = audit.get("attribution") or {}
    if attribution.get("verdict") != OUTCOME_DRIVEN or not attribution.get("findings"):
        return None
    return exception_record(attribution["findings"])


def outcome_exception(settings: Settings, model: str, version: str) -> str | None:
    """The reason for a recorded exception when ``version`` was refused *only* for its fairness audit and the
    audit's attribution (``evaluation.fairness_attribution``) found every failed group outcome-driven (the
    oracles fail the same audit); None otherwise. ``talentloop demo`` forces such a version with this reason,
    logged under its own name; any other refusal stops the demo. The exception's kind and figures are stored
    on the version when it is forced (tag ``talentloop.exception``) and worded in each answer's language."""
    spec = spec_for(model)
    client = configure(settings)
    mv = client.get_model_version(spec.name, str(version))
    tags = {k.removeprefix("talentloop."): v for k, v in (mv.tags or {}).items()}
    if tags.get("gate") != REFUSED:
        return None
    record = _outcome_record(mv.run_id, tags.get("metric_passed") == "True", tags.get("fairness", ""))
    if record is None:
        return None
    return (f"fairness exception: the {len(record['groups'])} group(s) the audit fails are failed by the simulator's "
            "own oracles too (outcome-driven gap, figures in the version's exception tag); alerts are reviewed by "
            "HR partners and the gap is monitored (docs/fairness.md)")


STATUS_TAGS = ("gate", "gate_passed", "baseline_passed", "metric_passed", "fairness", "fairness_audit_date",
               "min_impact_ratio", "gate_reasons", "gate_at", "gate_by", "forced_reason", "exception")


def _tag_status(client, spec: ModelSpec, version: str, report: dict, action: str, now: pd.Timestamp, who: str,
                reason: str) -> None:
    """The version's governance status as tags (read by ``/v1/models`` and the console): the gate's result,
    the fairness audit's status and date, and for a forced version who forced it and why."""
    mv = client.get_model_version(spec.name, version)
    audit_date = ""
    if mv.run_id:
        run = client.get_run(mv.run_id)
        audit_date = pd.Timestamp(run.info.start_time, unit="ms", tz="UTC").isoformat(timespec="seconds")
        ratio = run.data.metrics.get("fairness_min_impact_ratio")
    else:
        ratio = None
    fair = report.get("fairness_status") or ("passed" if report["fairness_passed"] else "failed")
    record = _outcome_record(mv.run_id, bool(report.get("metric_passed")), fair) if action == FORCED else None
    tags = {
        "gate": action, "gate_passed": str(bool(report["passed"])),
        "baseline_passed": str(bool(report.get("baseline_passed", True))),
        "metric_passed": str(bool(report.get("metric_passed", False))), "fairness": fair,
        "fairness_audit_date": audit_date if spec.scores_people else "",
        "min_impact_ratio": "" if ratio is None else f"{ratio:.4f}",
        "gate_reasons": " | ".join(report["reasons"])[:4900], "gate_at": now.isoformat(timespec="seconds"),
        "gate_by": who, "forced_reason": reason if action == FORCED else "",
        "exception": "" if record is None else json.dumps(record, ensure_ascii=False),
    }
    for key, value in tags.items():
        client.set_model_version_tag(spec.name, version, f"talentloop.{key}", value)


def _exists(client, name: str, version: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_model_version(name, version)
    except MlflowException:
        return False
    return True


# ---------------------------------------------------------------------------------------------- the log
def _append(settings: Settings, event: dict[str, Any], report: dict) -> int:
    """Append one event as a new run of the ``deployments`` experiment; returns its sequence number."""
    seq = len(deployments(settings, event["model"])) + 1
    experiment(settings, DEPLOYMENTS_EXPERIMENT)
    name = f"{event['model']} #{seq}: {event['action']} v{event['candidate']}"
    tags = {f"talentloop.{k}": str(v) for k, v in {**event, "seq": seq}.items()}
    with mlflow.start_run(run_name=name, tags={**tags, "talentloop.kind": "deployment"}):
        mlflow.log_params({"model": event["model"], "candidate": event["candidate"], "action": event["action"]})
        log_json({**event, "seq": seq, **report}, "gate.json")
    return seq


def deployments(settings: Settings, model: str) -> list[dict]:
    """Every logged attempt for ``model`` (a CLI or registered name, or a customer forecaster's own name),
    oldest first."""
    try:
        name = spec_for(model).name
    except ValueError:  # a forecaster of a customer's --series, registered under its own name
        name = model
    client = configure(settings)
    exp = client.get_experiment_by_name(DEPLOYMENTS_EXPERIMENT)
    if exp is None:
        return []
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.`talentloop.model` = '{name}'",
                              max_results=50_000)
    events = []
    for run in runs:
        tags = run.data.tags
        event = {k: tags.get(f"talentloop.{k}", "") for k in EVENT_FIELDS}
        event["seq"] = int(event["seq"])
        event["gate_passed"] = event["gate_passed"] == "True"
        event["run_id"] = run.info.run_id
        events.append(event)
    return sorted(events, key=lambda e: e["seq"])


# ---------------------------------------------------------------------------------------------- cards
def model_card(settings: Settings, model: str, version: str | None = None) -> str:
    """The Markdown model card logged with ``version``'s run (default: the champion)."""
    import tempfile
    from pathlib import Path

    spec = spec_for(model)
    client = configure(settings)
    if version is None:
        from mlflow.exceptions import MlflowException

        try:
            version = aliases(client, spec.name).get(CHAMPION)
        except MlflowException as exc:
            raise ValueError(f"no registered model {spec.name!r}: train it first") from exc
        if version is None:
            raise ValueError(f"{spec.name} has no champion; pass --version")
    if not _exists(client, spec.name, str(version)):
        raise ValueError(f"model {spec.name!r} has no version {version!r}")
    run_id = client.get_model_version(spec.name, str(version)).run_id
    if "model_card.md" not in {a.path for a in client.list_artifacts(run_id)}:
        raise ValueError(f"{spec.name} v{version} (run {run_id}) has no model_card.md")
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(client.download_artifacts(run_id, "model_card.md", tmp)).read_text(encoding="utf-8")
        if "monitoring/latest.md" in {a.path for a in client.list_artifacts(run_id, "monitoring")}:
            latest = Path(client.download_artifacts(run_id, "monitoring/latest.md", tmp)).read_text(encoding="utf-8")
            card = card.rstrip("\n") + "\n\n#" + latest  # `talentloop monitor`'s latest results, as a section
        return card
