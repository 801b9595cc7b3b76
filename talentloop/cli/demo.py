"""``talentloop demo``: the demo pipeline in one process, then where to go: URLs, a key and requests to try.

simulate → ingest → features build / apply / materialize → train attrition and train skill-demand → score
attrition → score points (balances and the team diagnosis) → train course-ranker and train potential → score
potential (after the ranker: the talent scores list next-job courses) → an admin API key. Each pair of trainings runs at the same time when there are two
cores or more (the second in a child process, one thread each); the pairs are of about the same length
(attrition ≈ skill demand, course ranker ≈ potential on the 2,000-person demo). Each step is the very command
a person would type (run in this process, so feast, mlflow and lightgbm are imported once instead of once per
step, which saves about 8 s a step).

A version the gate refuses is not served: the demo goes on, scores only what has a champion, and its closing
lines say which version of each model is registered and which one serves.

A second demo on the same workspace redoes only what changed: every step but ingest (idempotent by itself)
records the digest of its inputs in ``<workspace>/stamps.json`` (:mod:`features.stamps`) and is skipped when the
digest and its outputs are still there; ``--force`` redoes everything. ``make demo`` runs this, then
``talentloop serve`` with the same host and port.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, settings, summary, writes
from talentloop.cli.demo_closing import base_url, model_status, tryout_lines
from talentloop.cli.demo_skips import cannot_train, too_short

__all__ = ["base_url", "register", "run_step", "tryout_lines"]

MODEL_CODE = ("features", "models", "evaluation", "training_jobs")
# trainings independent of each other, run side by side (the first here, the second in a child process)
PARALLEL = (("train attrition", "train skill-demand"), ("train course-ranker", "train potential"))
REGISTERED = {"train attrition": "attrition", "train potential": "potential", "train course-ranker": "course_ranker",
              "train skill-demand": "skill_demand"}
# scoring steps: the model they need a champion of, and whether a refused version stops the demo
SCORES = {"score attrition": ("attrition", True), "score potential": ("potential", False)}
CPU: dict[str, float] = {}  # CPU seconds (user + system, all threads) of each step run, for --timings


@dataclass
class Step:
    """One command of the demo: its name in the table, its arguments, and (None: always run) a function
    returning the digest of its inputs and whether its outputs are in place."""

    name: str
    args: list[str]
    inputs: Callable[[], tuple[str, bool]] | None = None


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root app (it runs the root app's own commands)."""

    @app.command("demo")
    @writes("demo")
    def demo(
        employees: Annotated[int, typer.Option(help="Starting headcount of the simulated company.")] = 2000,
        months: Annotated[int, typer.Option(help="Months to simulate.")] = 36,
        seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 7,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Where the simulated feeds go (default: <workspace>/demo-company).")] = None,
        host: Annotated[str, typer.Option(help="Host `talentloop serve` will listen on (for the printed URLs).")]
        = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port `talentloop serve` will listen on (for the printed URLs).")]
        = 8000,
        end: Annotated[str | None, typer.Option(
            help="Last simulated month, YYYY-MM (default: the last complete month).")] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Redo every step, even those whose inputs are unchanged since the last demo.")] = False,
        timings_file: Annotated[Path | None, typer.Option(
            "--timings", hidden=True, help="Also write the steps' seconds as JSON here (for bench/demo.py).")] = None,
    ) -> None:
        """Simulate a company, ingest it, build features, train and register every model, score attrition and
        potential."""
        from features.stamps import Stamps

        if not 0 < port < 65536:
            raise fail(f"--port must be between 1 and 65535, got {port}")
        started = time.perf_counter()
        folder = out or settings().home / "demo-company"
        stamps = Stamps(settings().home)
        timings: dict[str, str] = {}
        steps = _steps(folder, employees, months, seed, end)
        pending = {step.name: step for step in steps}
        for step in steps:
            if step.name not in pending:  # ran with the other of its pair
                continue
            pair = next((p for p in PARALLEL if step.name in p), None)
            if pair is not None:
                run = [pending.pop(name) for name in pair]
                skipped = {s.name for s in run if cannot_train(s.name, months)}
                timings.update({name: "skipped" for name in skipped})
                timings.update(_run_trainings(app, [s for s in run if s.name not in skipped], stamps, force))
            else:
                timings.update(_run_scoring(app, pending.pop(step.name), stamps, force))
        key = _admin_key()
        timings["total"] = f"{time.perf_counter() - started:.1f}"
        console.print(summary("demo pipeline", ["step", "seconds"], timings.items()))
        if timings_file is not None:
            cpu = {k: round(v, 1) for k, v in CPU.items()}
            timings_file.write_text(json.dumps({**timings, "cpu": cpu}, indent=2), encoding="utf-8")
        _print_tryout(key, _active_employee(), host, port, model_status(settings().home / "mlflow.db", REGISTERED.values()))


def _steps(folder: Path, employees: int, months: int, seed: int, end: str | None) -> list[Step]:
    from features.simulator.plan_flow import PlanSettings
    from features.stamps import code_digest, digest, files_fingerprint

    s = settings()

    def clean_version() -> str | None:
        from features.offline import current_version_dir

        current = current_version_dir(s)
        return current.name if current else None

    def feature_files() -> list[Path]:
        from features.build import FEATURE_TABLES, feature_path

        return [feature_path(s.feature_dir, t) for t in FEATURE_TABLES]

    def simulated() -> tuple[str, bool]:
        from talentloop.cli.simulate import first_month

        return (digest(employees, months, seed, first_month(months, None, end), str(folder.resolve()),
                       code_digest(("features/simulator",))), (folder / "mapping.yaml").exists())

    def built() -> tuple[str, bool]:
        return digest(clean_version(), code_digest(("features",))), all(p.exists() for p in feature_files())

    def applied() -> tuple[str, bool]:
        return (digest(str(s.feature_dir.resolve()), s.online_store, code_digest(("features",))),
                (s.feast_dir / "registry.db").exists())

    def materialized() -> tuple[str, bool]:
        online = s.online_store == "sqlite" and (s.feast_dir / "online.db").exists()  # Redis: always reload
        return digest(files_fingerprint(feature_files()), s.online_store, code_digest(("features",))), online

    def trained(name: str) -> Callable[[], tuple[str, bool]]:
        def inputs() -> tuple[str, bool]:
            return (digest(name, clean_version(), files_fingerprint(feature_files()), code_digest(MODEL_CODE)),
                    _registered(s.home / "mlflow.db", REGISTERED[name]))
        return inputs

    def scored(*models: str) -> Callable[[], tuple[str, bool]]:
        def inputs() -> tuple[str, bool]:
            from features.stamps import Stamps

            data = Stamps(s.home).data
            stamped = [data.get(m, {}).get("digest") for m in models]
            return digest(*stamped, files_fingerprint(feature_files()), code_digest(MODEL_CODE)), s.app_db.exists()
        return inputs

    def pointed() -> tuple[str, bool]:  # points balances and team diagnosis: rules, clean tables, code
        rules = files_fingerprint([s.home / n for n in ("points.yaml", "training_needs.yaml", "webhook.yaml")])
        return digest(clean_version(), files_fingerprint(feature_files()), rules,
                      code_digest(("models", "training_jobs"))), s.app_db.exists()

    return [
        Step("simulate", ["simulate", "--employees", str(employees), "--months", str(months), "--seed", str(seed),
                          "--out", str(folder), *(["--end", end] if end else []),
                          *(["--learning-plans"] if months >= PlanSettings().first + 3 else [])], simulated),
        Step("ingest", ["ingest", str(folder)]),
        Step("features build", ["features", "build"], built),
        Step("features apply", ["features", "apply"], applied),
        Step("features materialize", ["features", "materialize"], materialized),
        Step("train attrition", ["train", "attrition"], trained("train attrition")),
        Step("train skill-demand", ["train", "skill-demand"], trained("train skill-demand")),
        Step("score attrition", ["score", "attrition"], scored("train attrition")),
        Step("score points", ["score", "points"], pointed),
        Step("train course-ranker", ["train", "course-ranker"], trained("train course-ranker")),
        Step("train potential", ["train", "potential"], trained("train potential")),
        # the talent scores carry attrition risk and the ranker's next-job courses
        Step("score potential", ["score", "potential"],
             scored("train potential", "score attrition", "train course-ranker")),
    ]


def _registered(db: Path, name: str) -> bool:
    """Whether the MLflow database at ``db`` holds a version of the registered model ``name`` (read with
    sqlite3: importing mlflow to ask would cost seconds)."""
    if not db.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute("SELECT 1 FROM model_versions WHERE name = ? LIMIT 1", (name,)).fetchone() is not None
        finally:
            con.close()
    except sqlite3.Error:
        return False


def _unchanged(step: Step, stamps, force: bool) -> tuple[str | None, bool]:
    """(the digest of the step's inputs, whether the step can be skipped)."""
    if step.inputs is None:
        return None, False
    key, outputs_there = step.inputs()
    return key, not force and outputs_there and stamps.fresh(step.name, key)


def _run_or_skip(app: typer.Typer, step: Step, stamps, force: bool) -> str:
    """Run ``step`` unless its inputs are unchanged; its seconds, or ``unchanged`` when skipped."""
    key, skip = _unchanged(step, stamps, force)
    if skip:
        console.print(f"[dim]talentloop {' '.join(step.args[:2])}: inputs unchanged since the last demo, "
                      "skipped (--force redoes it)[/]", soft_wrap=True)
        return "unchanged"
    stamps.forget(step.name)
    seconds = run_step(app, step.args, step.name)
    if key is not None:
        stamps.record(step.name, key)
    return f"{seconds:.1f}"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run_trainings(app: typer.Typer, steps: list[Step], stamps, force: bool) -> dict[str, str]:
    """The independent trainings: the last one in a child process while the others run here, each with its
    share of the cores, when there are two cores or more; one after another otherwise."""
    todo, rows = [], {}
    for step in steps:
        key, skip = _unchanged(step, stamps, force)
        if skip:
            console.print(f"[dim]talentloop {' '.join(step.args[:2])}: inputs unchanged since the last demo, "
                          "skipped (--force redoes it)[/]", soft_wrap=True)
            rows[step.name] = "unchanged"
        else:
            stamps.forget(step.name)
            todo.append((step, key))
    cores = _cores()
    if len(todo) < 2 or cores < 2:
        for step, key in todo:
            console.record = True  # to read a failure's reason (see demo_skips.too_short)
            try:
                rows[step.name] = f"{run_step(app, step.args, step.name):.1f}"
            except typer.Exit:
                if not too_short(step.name, console.export_text()):
                    raise
                rows[step.name] = "skipped"
                continue
            finally:
                console.export_text()  # drop what was recorded
                console.record = False
            if key is not None:
                stamps.record(step.name, key)
        return {s.name: rows[s.name] for s in steps}

    share = max(1, cores // len(todo))
    (child_step, child_key), here = todo[-1], todo[:-1]
    children_cpu = _children_cpu()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        child, child_started = _start_child(child_step.args, share, log), time.perf_counter()
        ended: list[float] = []  # when the child ended, not when this side got round to asking
        watcher = threading.Thread(target=lambda: (child.wait(), ended.append(time.perf_counter())), daemon=True)
        watcher.start()
        console.print(f"[dim]talentloop {' '.join(child_step.args)}: running alongside in process {child.pid} "
                      f"({share} thread(s) each); its output follows when it ends[/]", soft_wrap=True)
        try:
            with _threads(share):
                for step, key in here:
                    rows[step.name] = f"{run_step(app, step.args, step.name):.1f}"
                    if key is not None:
                        stamps.record(step.name, key)
        except BaseException:  # this side failed or was interrupted: stop the other before leaving
            child.terminate()
            child.wait()
            raise
        from features import progress

        with progress.step(f"talentloop {' '.join(child_step.args[:2])}: finishing alongside"):
            code = child.wait()
            watcher.join()
        seconds = (ended[0] if ended else time.perf_counter()) - child_started
        CPU[child_step.name] = _children_cpu() - children_cpu
        log.seek(0)
        output = log.read()
    console.rule(f"talentloop {' '.join(child_step.args[:2])}")
    sys.stderr.write(output)
    if code != 0 and "database is locked" in output:  # two writers on MLflow's SQLite: redo it alone
        console.print("[dim]the MLflow database was busy; running it again on its own[/]")
        seconds += run_step(app, child_step.args, child_step.name)
        code = 0
    if code != 0 and too_short(child_step.name, output):
        rows[child_step.name] = "skipped"
        return {s.name: rows[s.name] for s in steps}
    if code != 0:
        raise fail(f"demo stopped: `talentloop {' '.join(child_step.args)}` exited with {code}", int(code))
    if child_key is not None:
        stamps.record(child_step.name, child_key)
    rows[child_step.name] = f"{seconds:.1f} (in parallel)"
    return {s.name: rows[s.name] for s in steps}


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """This process's trainings use ``n`` threads: OpenMP / BLAS pools (threadpoolctl) and ``OMP_NUM_THREADS``,
    which the training jobs read for LightGBM's own ``num_threads``."""
    from threadpoolctl import threadpool_limits

    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def _start_child(args: list[str], threads: int, log) -> subprocess.Popen:
    """``talentloop ARGS`` in a child process with ``threads`` OpenMP threads, its output into ``log``."""
    from talentloop.cli import _common

    verbose = ["--verbose"] if _common.VERBOSE else []
    from features.workspace import INHERITED

    env = {**os.environ, INHERITED: str(os.getpid()), "OMP_NUM_THREADS": str(threads),
           "TALENTLOOP_HOME": str(settings().home),
           "COLUMNS": str(console.width)}
    return subprocess.Popen([sys.executable, "-m", "talentloop", *verbose, *args], env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_step(app: typer.Typer, args: list[str], name: str | None = None) -> float:
    """Run ``talentloop ARGS`` in this process; seconds taken (its CPU seconds go to ``CPU[name]``). A failing
    step stops the demo with its code."""
    import typer.main
    console.rule(f"talentloop {' '.join(args[:2])}")
    started, cpu = time.perf_counter(), time.process_time()
    try:
        code = typer.main.get_command(app).main(args, prog_name="talentloop", standalone_mode=False)
    except SystemExit as exc:  # a command that exits by itself
        code = exc.code
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # a usage error: bad option or value
        console.print(f"[bold red]error:[/] {exc}")
        code = getattr(exc, "exit_code", 2)
    if code not in (None, 0):
        raise fail(f"demo stopped: `talentloop {' '.join(args)}` exited with {code}", int(code))
    CPU[name or " ".join(args[:2])] = CPU.get(name or " ".join(args[:2]), 0.0) + time.process_time() - cpu
    return time.perf_counter() - started


def _run_scoring(app: typer.Typer, step: Step, stamps, force: bool) -> dict[str, str]:
    """Run (or skip) a step that is not a training; a scoring step first gets its model a champion when the
    gate allows it (:func:`_gate_exception`) and is not run without one."""
    if step.name not in SCORES:
        return {step.name: _run_or_skip(app, step, stamps, force)}
    model, required = SCORES[step.name]
    if not _registered(settings().home / "mlflow.db", model):  # skipped for too little data (said above)
        stamps.forget(step.name)
        console.print(f"[yellow]talentloop {' '.join(step.args)}: not run, the {model} model was not trained[/]",
                      soft_wrap=True)
        return {step.name: "not run"}
    rows = {f"promote {model}": f"{run_step(app, exc, f'promote {model}'):.1f}"
            for exc in _gate_exception(model, required)}
    status = model_status(settings().home / "mlflow.db", REGISTERED.values()).get(model, {})
    if status.get("champion") is None:
        stamps.forget(step.name)
        console.print(f"[yellow]talentloop {' '.join(step.args)}: not run, {model} has no version serving "
                      f"(`talentloop deployments {model}` shows why)[/]", soft_wrap=True)
        return {**rows, step.name: "not run"}
    return {**rows, step.name: _run_or_skip(app, step, stamps, force)}


def _gate_exception(model: str, required: bool) -> list[list[str]]:
    """The promote command that records a reasoned exception when the gate refused the demo's ``model`` only
    for a fairness gap its attribution found outcome-driven (none when it passed, or when there is no such
    reason and the refusal is not ``required`` to pass; the demo stops with the refusal otherwise)."""
    from evaluation.compare import CHAMPION, aliases
    from training_jobs.promotion import configure, outcome_exception

    current = aliases(configure(settings()), model)
    if CHAMPION in current or "challenger" not in current:
        return []
    reason = outcome_exception(settings(), model, current["challenger"])
    if reason is None and required:
        raise fail(f"demo stopped: the gate refused the {model} model (see above); `talentloop deployments "
                   f"{model}` shows why", 3)
    if reason is None:
        console.print(f"[yellow]the gate refused {model} v{current['challenger']}: it is registered but not "
                      f"served (`talentloop deployments {model}` shows why)[/]", soft_wrap=True)
        return []
    console.print(f"[yellow]the gate refused {model} v{current['challenger']} for its fairness audit only; the "
                  "attribution finds the gap outcome-driven, so the demo records a reasoned exception[/]",
                  soft_wrap=True)
    return [["promote", model, "--version", current["challenger"], "--force", "--reason", reason,
             "--by", "talentloop demo"]]


def _admin_key() -> str:
    from features.app_db import connect
    from serving.auth import create_key

    con = connect(settings().app_db)
    try:
        return create_key(con, "admin", (), "demo-admin").key
    finally:
        con.close()


def _active_employee() -> str:
    """An employee still employed at the end of the data (the newest event of someone never terminated)."""
    from features.offline import read_clean

    events = read_clean(settings(), "employment_events")
    gone = events.loc[events["event_type"] == "termination", "employee_id"]
    return str(events.loc[~events["employee_id"].isin(gone), "employee_id"].iloc[-1])


def _print_tryout(key: str, employee: str, host: str, port: int, models: dict) -> None:
    typer.echo("\n".join(tryout_lines(key, employee, host, port, settings().home, models)))
