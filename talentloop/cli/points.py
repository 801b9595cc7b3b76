"""``talentloop score points``, ``talentloop diagnose``, ``talentloop points``, ``talentloop training-needs`` and
``talentloop webhook set-url | show | send | clear``: training points (积分制) and team diagnosis
(docs/points.md, docs/training-needs.md).

``score points`` is added to the ``score`` group that ``talentloop.cli.train`` creates (looked up by name)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import typer

from talentloop.cli._common import console, fail, settings, summary, writes
from talentloop.cli.talent_pool import _group

AS_OF = typer.Option(None, "--as-of", help="Month (YYYY-MM or a date); default: the latest month with features.")
SEND = typer.Option(True, "--send/--no-send", help="Send new findings to the webhook (if set).")
JSON_OUT = typer.Option(False, "--json", help="Print the result as JSON on stdout.")


def _print(result: dict, title: str, json_out: bool) -> None:
    if json_out:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
    else:
        console.print(summary(title, ["field", "value"], result.items()))


def _run(as_of: str | None, points: bool, send: bool) -> dict:
    from training_jobs.score_points import run

    try:
        return run(settings(), as_of=as_of, points=points, diagnose=True, send=send)
    except ValueError as exc:
        raise fail(str(exc).splitlines()[0]) from exc


def register(app: typer.Typer) -> None:
    score = _group(app, "score")

    @score.command("points")
    @writes("score points")
    def score_points(
        as_of: str = AS_OF,
        send: bool = SEND,
        json_out: bool = JSON_OUT,
    ) -> None:
        """Training points of every active employee (balance, projected year-end attainment) and the month's team
        diagnosis (training-need findings, sent to the HR suite's webhook)."""
        _print(_run(as_of, True, send), "Training points and team diagnosis", json_out)

    @app.command("diagnose")
    @writes("diagnose")
    def diagnose(
        as_of: str = AS_OF,
        send: bool = SEND,
        json_out: bool = JSON_OUT,
    ) -> None:
        """Team diagnosis only (rules in training_needs.yaml): training-need findings per unit and skill."""
        _print(_run(as_of, False, send), "Team diagnosis", json_out)

    _register_views(app)
    _register_webhook(app)


def _subtree(s, org_unit: str | None) -> list[str] | None:  # noqa: ANN001 - Settings
    if org_unit is None:
        return None
    from features.build.org_unit import unit_closure
    from features.offline import read_clean

    tree = read_clean(s, "org_units")
    closure = unit_closure(tree) if not tree.empty else None
    if closure is None or org_unit not in set(closure["ancestor_id"]):
        raise fail(f"--org-unit {org_unit!r} is not an org unit of the ingested data")
    return closure.loc[closure["ancestor_id"] == org_unit, "org_unit_id"].tolist()


def _register_views(app: typer.Typer) -> None:
    @app.command("points")
    def points(
        org_unit: str = typer.Option(None, "--org-unit", help="Org unit id: its whole subtree (default: all)."),
        lang: str = typer.Option("en", help="en or zh."),
        out: Path = typer.Option(None, "--out", help="Write every person's balance to FILE.csv or FILE.xlsx."),
    ) -> None:
        """Points completion per unit (share who met the yearly target, share on track by year end)."""
        from features.app_db import connect
        from features.build.org_unit import unit_closure
        from features.offline import read_clean
        from models.points import balances, store

        if lang not in ("en", "zh"):
            raise fail(f"--lang must be en or zh, got {lang!r}")
        if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
            raise fail(f"--out must end in .csv or .xlsx, got {out.name!r}")
        s = settings()
        units = _subtree(s, org_unit)
        with closing(connect(s.app_db)) as con:
            rows, month = store.month_rows(con, None, units)
        if month is None:
            raise fail("no points balances yet: run `talentloop score points`")
        tree = read_clean(s, "org_units")
        table = balances.unit_completion(rows, unit_closure(tree), units)
        names = dict(zip(tree["org_unit_id"], tree[f"name_{lang}"].fillna(tree["name_en"]), strict=True))
        header = (["unit", "people", "met target", "on track", "mean attainment"] if lang == "en"
                  else ["单位", "人数", "已达标", "预计达标", "平均完成率"])
        console.print(summary(f"{month}", header, [
            [names.get(r.org_unit_id, r.org_unit_id), r.headcount, f"{r.completion_rate:.0%}", f"{r.on_track_rate:.0%}",
             f"{r.mean_attainment:.0%}"] for r in table.itertuples()]))
        if out is not None:
            if out.suffix.lower() == ".csv":
                rows.to_csv(out, index=False)
            else:
                rows.to_excel(out, index=False)
            console.print(f"wrote {len(rows)} rows to {out}")

    @app.command("training-needs")
    def training_needs(
        org_unit: str = typer.Option(None, "--org-unit", help="Org unit id: its whole subtree (default: all)."),
        as_of: str = AS_OF,
        lang: str = typer.Option("en", help="en or zh."),
        json_out: bool = typer.Option(False, "--json", help="Print the findings as JSON on stdout."),
    ) -> None:
        """The month's training-need findings (team diagnosis) with the courses that fit each group."""
        from features.app_db import connect
        from models.training_needs import store
        from training_jobs.score_points import month_of

        if lang not in ("en", "zh"):
            raise fail(f"--lang must be en or zh, got {lang!r}")
        s = settings()
        units = _subtree(s, org_unit)
        try:
            month = str(month_of(as_of).date()) if as_of else None
        except ValueError as exc:
            raise fail(str(exc)) from exc
        with closing(connect(s.app_db)) as con:
            found, month = store.findings(con, month, units)
        if month is None:
            raise fail("no findings yet: run `talentloop score points` (or `talentloop diagnose`)")
        if json_out:
            typer.echo(json.dumps(found, ensure_ascii=False))
            return
        header = ["finding", "unit", "sent to the HR suite"] if lang == "en" else ["培训需求", "单位", "已发送至HR系统"]
        console.print(summary(f"{month}", header, [
            [f["text"][lang], f["unit_name"][lang], f["delivered_at"] or "–"] for f in found]))


def _register_webhook(app: typer.Typer) -> None:
    hook = typer.Typer(help="The HR suite's webhook for training-need findings (signed, retried, logged).",
                       no_args_is_help=True)

    @hook.command("set-url")
    def set_url(
        url: str = typer.Argument(..., help="http:// or https:// address that receives the findings."),
        max_attempts: int = typer.Option(None, help="Attempts per delivery (default 5)."),
        backoff: float = typer.Option(None, help="Seconds before the first retry, doubled each time (default 2)."),
        timeout: float = typer.Option(None, help="Seconds per attempt (default 10)."),
        rotate_secret: bool = typer.Option(False, "--rotate-secret", help="Make a new signing secret."),
    ) -> None:
        """Set the webhook URL (in the workspace's webhook.yaml); makes the signing secret on first use and
        prints it once, for the HR suite to verify X-TalentLoop-Signature-256."""
        from pydantic import ValidationError

        from models.training_needs import webhook

        s = settings()
        try:
            current = webhook.load_config(s.home)
            values = {**current.model_dump(), "url": url}
            for name, value in (("max_attempts", max_attempts), ("backoff_seconds", backoff),
                                ("timeout_seconds", timeout)):
                if value is not None:
                    values[name] = value
            config = webhook.WebhookConfig(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else "url"
            option = {"url": "URL", "max_attempts": "--max-attempts", "backoff_seconds": "--backoff",
                      "timeout_seconds": "--timeout"}.get(field, field)
            raise fail(f"{option}: {err['msg'].removeprefix('Value error, ')}") from exc
        except ValueError as exc:
            raise fail(str(exc).splitlines()[0]) from exc
        s.home.mkdir(parents=True, exist_ok=True)
        fresh = rotate_secret or webhook.secret(s.home) is None
        key = webhook.secret(s.home, create=True, rotate=rotate_secret)
        path = webhook.save_config(s.home, config)
        console.print(f"webhook set in {path}: {config.url}", soft_wrap=True)
        if fresh:
            typer.echo(f"signing secret (shown once; also in {s.home / webhook.SECRET_FILE}):\n{key}")

    @hook.command("show")
    def show(limit: int = typer.Option(20, help="Attempts to list.")) -> None:
        """The webhook's settings and its latest delivery attempts."""
        from features.app_db import connect
        from models.training_needs import store, webhook

        s = settings()
        try:
            config = webhook.load_config(s.home)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        console.print(summary("Webhook", ["setting", "value"], [
            ["url", config.url or "(not set)"], ["max_attempts", config.max_attempts],
            ["backoff_seconds", config.backoff_seconds], ["timeout_seconds", config.timeout_seconds]]))
        if s.app_db.exists():
            with closing(connect(s.app_db)) as con:
                rows = store.attempts(con, limit)
            console.print(summary("Attempts", ["at", "delivery", "attempt", "status", "outcome", "error"], [
                [r["at"], r["delivery_id"], r["attempt"], r["status_code"] or "–", r["outcome"], r["error"] or ""]
                for r in rows]))

    @hook.command("send")
    @writes("webhook send")
    def send(as_of: str = typer.Option(None, "--as-of", help="Month (default: the latest diagnosed).")) -> None:
        """Send the month's findings that were not delivered yet (after a failed delivery)."""
        from training_jobs.score_points import send_pending

        try:
            result = send_pending(settings(), as_of)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        console.print(summary("Webhook delivery", ["field", "value"], result.items()))
        if result["webhook"] == "failed":
            raise typer.Exit(1)

    @hook.command("clear")
    def clear() -> None:
        """Stop sending: remove the URL (the secret and the delivery log stay)."""
        from models.training_needs import webhook

        s = settings()
        config = webhook.load_config(s.home).model_copy(update={"url": None})
        webhook.save_config(s.home, config)
        console.print("webhook URL removed")

    app.add_typer(hook, name="webhook")
