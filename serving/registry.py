"""Models loaded by MLflow alias, swapped without dropping requests.

:class:`ModelRegistry` loads each registered model behind the ``champion`` alias (in the app's lifespan,
never at import). A reload resolves the alias again; when it points to a new version, that version is
loaded fully first and then published by replacing one dictionary reference, so a request keeps the
:class:`LoadedModel` it started with and never sees a half-loaded model. A model that is not registered
(or fails to load) is recorded as missing with the reason; its endpoints answer 503 and ``/readyz`` names it.

With several worker processes, a reload asked of one worker reaches the others through a signal file in the
workspace: :meth:`ModelRegistry.announce` writes a new token to it, and every worker's registry
(:meth:`ModelRegistry.watch`) reads the file about once a second and reloads when the token changed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.wording.governance import exception_sentence, parse_record

CHAMPION = "champion"  # the serving alias (same name as training_jobs.tracking.CHAMPION)
MODEL_NAMES = ("attrition", "course_ranker", "skill_demand")
WATCH_SECONDS = 1.0  # how often every worker reads the reload signal file
log = logging.getLogger("talentloop.serving")


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    model: Any
    alias: str = CHAMPION
    run_id: str | None = None
    trained_at: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    loaded_at: str = ""
    governance: dict[str, str] = field(default_factory=dict)  # the version's ``talentloop.*`` tags (the gate)
    # model_status worded once per language (the tags of a loaded model do not change; a reload loads a new one)
    statuses: dict[str, dict[str, Any] | None] = field(default_factory=dict, compare=False, repr=False)


Loader = Callable[[str, str], LoadedModel]  # (name, alias) -> LoadedModel; raises when unavailable


class ModelNotLoaded(LookupError):
    pass


def _headline(metrics: dict[str, float], limit: int = 24) -> dict[str, float]:
    """Summary metrics of a run: per-fold series left out; the model's own rows first when labelled."""
    keep = {k: v for k, v in metrics.items() if not k.startswith("fold_")}
    own = {k: v for k, v in keep.items() if k.startswith("model_")}
    chosen = own or keep
    return {k: float(chosen[k]) for k in sorted(chosen)[:limit]}


def mlflow_loader(tracking_uri: str) -> Loader:
    """Load ``models:/<name>/<version>`` for the version behind ``alias`` (pyfunc unwrapped to the model)."""

    def load(name: str, alias: str) -> LoadedModel:
        import mlflow
        from mlflow import MlflowClient

        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        mv = client.get_model_version_by_alias(name, alias)
        loaded = mlflow.pyfunc.load_model(f"models:/{name}/{mv.version}")
        example = loaded.input_example
        if example is not None:  # a model that cannot score its own example (e.g. pickled by older code) is not served
            try:
                loaded.predict(example)
            except Exception as exc:
                raise RuntimeError(f"version {mv.version} failed a smoke prediction on its input example: "
                                   f"{type(exc).__name__}: {exc}") from exc
        model = loaded.unwrap_python_model().model
        warm_up = getattr(model, "warm_up", None)
        if callable(warm_up):  # what the first request would otherwise build (e.g. TreeSHAP tables)
            warm_up()
        metrics: dict[str, float] = {}
        trained_at = None
        governance = {k.removeprefix("talentloop."): str(v) for k, v in (mv.tags or {}).items()
                      if k.startswith("talentloop.")}
        if mv.run_id:
            run = client.get_run(mv.run_id)
            metrics = _headline(dict(run.data.metrics))
            trained_at = _iso_ms(run.info.end_time or run.info.start_time)
            governance = _with_run_audit(governance, dict(run.data.metrics), run.info.start_time)
        return LoadedModel(name=name, version=str(mv.version), model=model, alias=alias, run_id=mv.run_id,
                           trained_at=trained_at or _iso_ms(mv.creation_timestamp), metrics=metrics,
                           loaded_at=datetime.now(UTC).isoformat(timespec="seconds"), governance=governance)

    return load


def _with_run_audit(tags: dict[str, str], metrics: dict[str, float], started_ms: int | None) -> dict[str, str]:
    """A version promoted before the gate tagged it still shows its run's fairness audit."""
    out = dict(tags)
    if "fairness" not in out and "fairness_passed" in metrics:
        out["fairness"] = "passed" if metrics["fairness_passed"] >= 0.5 else "failed"
        out["fairness_audit_date"] = _iso_ms(started_ms) or ""
        ratio = metrics.get("fairness_min_impact_ratio")
        out["min_impact_ratio"] = "" if ratio is None else f"{ratio:.4f}"
    return out


FAILED_CHECKS = (("baseline_passed", "baseline"), ("metric_passed", "champion"))
CHECK_TEXT = {
    "baseline": {"en": "it scored below its strongest baseline on its own backtest",
                 "zh": "其回测成绩低于最强的基准模型"},
    "champion": {"en": "it scored below the champion it replaced", "zh": "其成绩低于被替换的上一版模型"},
    "fairness": {"en": "it failed its fairness audit", "zh": "未通过公平性审计"},
}


def failed_checks(governance: dict[str, str]) -> list[str]:
    """The gate's checks a version failed: ``baseline``, ``champion`` and/or ``fairness``."""
    failed = [name for tag, name in FAILED_CHECKS if governance.get(tag) == "False"]
    if governance.get("baseline_passed") == "False" and "champion" in failed:
        failed.remove("champion")  # the metric check includes the baseline check: name the cause once
    if governance.get("fairness") in ("failed", "not_audited"):
        failed.append("fairness")
    return failed


def model_status(loaded: LoadedModel, lang: str = "en") -> dict[str, Any] | None:
    """What an answer says about the model that produced it when it serves past a failed check of the gate
    (``talentloop promote --force``): the checks failed, who forced it, when and why, as a sentence in
    ``lang``; None for a version that passed the gate. Worded once per loaded model and language (a loaded
    model's tags do not change; a reload loads a new one)."""
    if lang not in loaded.statuses:
        loaded.statuses[lang] = _model_status(loaded, lang)
    status = loaded.statuses[lang]
    return None if status is None else {**status, "failed_checks": list(status["failed_checks"])}


def _model_status(loaded: LoadedModel, lang: str) -> dict[str, Any] | None:
    gov = loaded.governance
    if gov.get("gate") != "forced":
        return None
    failed = failed_checks(gov)
    joined = {"en": "; ".join(CHECK_TEXT[c]["en"] for c in failed) or "it did not pass the promotion gate",
              "zh": "；".join(CHECK_TEXT[c]["zh"] for c in failed) or "未通过上线检查"}
    who, reason, when = gov.get("gate_by", ""), gov.get("forced_reason", ""), gov.get("gate_at", "")[:10]
    record = parse_record(gov.get("exception"))  # a recorded kind of exception is worded in the answer's language
    why = {"en": exception_sentence(record, "en") if record else f"Reason given: {reason}",
           "zh": exception_sentence(record, "zh") if record else f"理由：{reason}"}
    note = {"en": f"This model version serves by an exception {who} recorded on {when}: {joined['en']}. {why['en']}",
            "zh": f"此模型版本按 {who} 于 {when} 记录的例外上线：{joined['zh']}。{why['zh']}"}[
        "zh" if lang == "zh" else "en"]
    return {"status": "forced", "failed_checks": failed, "forced_by": who, "forced_at": gov.get("gate_at", ""),
            "reason": reason, "note": note}


def mlflow_resolver(tracking_uri: str) -> Callable[[str, str], str | None]:
    """The version behind an alias (None when the model or alias does not exist)."""

    def resolve(name: str, alias: str) -> str | None:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        try:
            return str(client.get_model_version_by_alias(name, alias).version)
        except MlflowException:
            return None

    return resolve


def _iso_ms(ms: int | None) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


class ModelRegistry:
    """The models in use; ``get`` is lock-free, ``reload`` loads then swaps one reference."""

    def __init__(self, loader: Loader, resolver: Callable[[str, str], str | None],
                 names: Sequence[str] = MODEL_NAMES, alias: str = CHAMPION):
        self.loader = loader
        self.resolver = resolver
        self.names = tuple(names)
        self.alias = alias
        self._models: dict[str, LoadedModel] = {}
        self._missing: dict[str, str] = {n: "not loaded yet" for n in self.names}
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._signal: Path | None = None
        self._seen: str | None = None  # the last token of the signal file this worker acted on

    # ------------------------------------------------------------------ read
    def get(self, name: str) -> LoadedModel:
        found = self._models.get(name)
        if found is None:
            raise ModelNotLoaded(f"model {name} is not loaded: {self._missing.get(name, 'unknown model')}")
        return found

    def loaded(self) -> dict[str, LoadedModel]:
        return dict(self._models)

    def missing(self) -> dict[str, str]:
        return dict(self._missing)

    # ------------------------------------------------------------------ load / swap
    def _load_one(self, name: str) -> LoadedModel | str:
        try:
            return self.loader(name, self.alias)
        except Exception as exc:  # noqa: BLE001 - recorded and reported by /readyz, not swallowed
            reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            log.warning("model %s@%s not loaded: %s", name, self.alias, reason)
            return f"no version with alias {self.alias} could be loaded ({reason})"

    def load_all(self) -> dict[str, str]:
        return self.reload(force=True)

    def reload(self, force: bool = False) -> dict[str, str]:
        """Load every model whose alias moved (all when ``force``); returns name → what happened."""
        with self._reload_lock:
            report: dict[str, str] = {}
            for name in self.names:
                current = self._models.get(name)
                if not force:
                    target = self.resolver(name, self.alias)
                    if current is None and target is None:
                        report[name] = f"missing: {self._missing.get(name, 'not registered')}"
                        continue
                    if current is not None and (target is None or target == current.version):
                        report[name] = f"unchanged (version {current.version})"
                        continue
                result = self._load_one(name)
                if isinstance(result, str):
                    if current is None:
                        self._missing = {**self._missing, name: result}
                        report[name] = f"missing: {result}"
                    else:  # keep serving the version in use
                        report[name] = f"kept version {current.version}: {result}"
                    continue
                self._models = {**self._models, name: result}  # the swap: one reference assignment
                self._missing = {k: v for k, v in self._missing.items() if k != name}
                report[name] = (f"loaded version {result.version}" if current is None
                                else f"swapped version {current.version} -> {result.version}")
            return report

    # ------------------------------------------------------------------ polling
    def start_polling(self, seconds: float) -> None:
        if seconds <= 0 or self._poller is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(seconds):
                started = time.perf_counter()
                report = self.reload()
                changed = {k: v for k, v in report.items() if not v.startswith("unchanged")}
                if changed:
                    log.info("reload after %.1fs: %s", time.perf_counter() - started, changed)

        self._poller = threading.Thread(target=loop, name="model-reload", daemon=True)
        self._poller.start()

    # ------------------------------------------------------------------ every worker
    def announce(self) -> None:
        """Ask every worker watching the signal file to reload (this one has just done so itself)."""
        if self._signal is None:
            return
        token = uuid.uuid4().hex
        tmp = self._signal.with_name(f".{self._signal.name}.{token}")
        tmp.write_text(token)
        os.replace(tmp, self._signal)  # atomic: a reader sees the old token or the new one
        self._seen = token

    def watch(self, signal: Path, then: Callable[[dict[str, str]], None] | None = None,
              seconds: float = WATCH_SECONDS) -> None:
        """Reload (then call ``then`` with the report) whenever ``signal`` holds a token not seen yet.

        Reading a few bytes once a second costs nothing next to a request; a reload loads the new version
        fully before swapping it in, so requests in flight are never dropped.
        """
        if self._watcher is not None:
            return
        self._signal, self._seen = signal, _token(signal)
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(seconds):
                token = _token(signal)
                if token is None or token == self._seen:
                    continue
                self._seen = token
                try:
                    report = self.reload()
                    log.info("reload signalled by another worker: %s", report)
                    if then is not None:
                        then(report)
                except Exception:  # the watcher must outlive one failed reload: logged, next signal retries
                    log.exception("reload signalled by another worker failed")

        self._watcher = threading.Thread(target=loop, name="model-reload-signal", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._poller, self._watcher):
            if thread is not None:
                thread.join(timeout=5)
        self._poller = self._watcher = None


def _token(signal: Path) -> str | None:
    """The token in the signal file (None before the first announcement)."""
    try:
        return signal.read_text().strip() or None
    except FileNotFoundError:
        return None
