"""``talentloop serve``, ``talentloop keys create|list|revoke|rotate`` and ``talentloop audit export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, settings, summary


def register(app: typer.Typer) -> None:
    """Add the serving commands to the root app."""

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="TCP port."),
        workers: int = typer.Option(1, min=1, help="Worker processes (each loads the models once)."),
        reload_seconds: float = typer.Option(
            0.0, "--reload-seconds", help="Poll the champion aliases every N seconds (0: only on POST reload)."),
        log_level: str = typer.Option("warning", help="uvicorn log level."),
    ) -> None:
        """Serve the API (uvicorn, app factory ``serving.app:create_app``; several workers each accept on their
        own SO_REUSEPORT socket, see ``serving.workers``)."""
        import os

        from serving.workers import serve as run
        from talentloop.cli._common import moved_here

        settings()  # validate the environment before starting workers
        moved_here()  # once, before the workers start
        if reload_seconds:
            os.environ["TALENTLOOP_RELOAD_SECONDS"] = str(reload_seconds)
        console.print(f"serving on http://{host}:{port} ({workers} worker(s)); docs at /v1/docs")
        try:
            code = run("serving.app:create_app", host=host, port=port, workers=workers, log_level=log_level)
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        if code:
            raise fail("the workers kept failing at start-up (their errors are above)", code)

    keys = typer.Typer(help="API keys (stored hashed; a key is shown once).", no_args_is_help=True)

    @keys.command("create")
    def keys_create(
        role: str = typer.Option(..., help="hr_system | hr_partner | data_scientist | admin."),
        org_unit: Annotated[list[str] | None, typer.Option(
            "--org-unit", help="Org unit granted (hr_partner; repeatable).")] = None,
        name: str = typer.Option("", help="Who or what holds the key."),
        expires_in: str = typer.Option(None, "--expires-in", help="The key stops working after this long (90d, "
                                       "12h, 4w) or on this date (2027-03-01, UTC); default: never."),
    ) -> None:
        """Create an API key and print it once."""
        from features.app_db import connect
        from features.offline import read_clean
        from serving.auth import create_key, parse_expiry

        s = settings()
        units = read_clean(s, "org_units")["org_unit_id"].astype(str).tolist() if org_unit else None
        con = connect(s.app_db)
        try:
            expires = parse_expiry(expires_in) if expires_in else None
            created = create_key(con, role, org_unit or (), name, known_units=units, expires_at=expires)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        finally:
            con.close()
        _print_created("API key created (store it now: it is not shown again)", created)

    def _print_created(title: str, created) -> None:
        console.print(summary(title, ["field", "value"], [
            ["key_id", created.key_id], ["name", created.name], ["role", created.role],
            ["org units", ", ".join(created.org_units) or "all"],
            ["expires", (created.expires_at or "never")[:19].replace("T", " ")]]))
        typer.echo(created.key)

    @keys.command("revoke")
    def keys_revoke(key_id: str = typer.Argument(..., help="The key's id (`talentloop keys list`).")) -> None:
        """Revoke a key: every serving worker refuses it within a second; later attempts are logged."""
        from features.app_db import connect
        from serving.auth import revoke_key

        con = connect(settings().app_db)
        try:
            at = revoke_key(con, key_id)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        finally:
            con.close()
        console.print(f"key {key_id} revoked at {at[:19].replace('T', ' ')} UTC")

    @keys.command("rotate")
    def keys_rotate(
        key_id: str = typer.Argument(..., help="The key's id (`talentloop keys list`)."),
        grace: str = typer.Option(None, "--grace", help="Keep the old key working this long (1h, 2d) so its users "
                                  "can switch; default: revoke it now."),
        expires_in: str = typer.Option(None, "--expires-in", help="Expiry of the new key (90d or a date)."),
    ) -> None:
        """Replace a key by a new one with the same name, role and org units; print the new key once."""
        from datetime import UTC, datetime

        from features.app_db import connect
        from serving.auth import parse_expiry, rotate_key

        con = connect(settings().app_db)
        try:
            grace_for = parse_expiry(grace) - datetime.now(UTC) if grace else None
            created = rotate_key(con, key_id, grace=grace_for,
                                 expires_at=parse_expiry(expires_in) if expires_in else None)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        finally:
            con.close()
        old = f"works until {grace}" if grace else "is revoked"
        _print_created(f"key {key_id} rotated: the old key {old}; store the new one now", created)

    @keys.command("list")
    def keys_list() -> None:
        """List keys (ids, names, roles, org units; never the keys)."""
        from features.app_db import connect
        from serving.auth import list_keys

        con = connect(settings().app_db)
        try:
            rows = list_keys(con)
        finally:
            con.close()
        from serving.auth import key_state

        console.print(summary("API keys", ["key_id", "name", "role", "org units", "created", "expires", "state",
                                           "refused attempts"],
                              [[r["key_id"], r["name"], r["role"], ", ".join(r["org_units"]) or "all",
                                r["created_at"][:19], (r["expires_at"] or "never")[:19],
                                key_state(r["revoked_at"], r["expires_at"]), r["denied_attempts"]] for r in rows]))

    audit = typer.Typer(help="The append-only audit log of predictions served.", no_args_is_help=True)

    @audit.command("export")
    def audit_export(
        out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .jsonl.")],
        start: str = typer.Option(None, "--from", help="First day (YYYY-MM-DD or an ISO time), inclusive."),
        end: str = typer.Option(None, "--to", help="Last day (YYYY-MM-DD, whole day included) or an ISO time."),
    ) -> None:
        """Write the audit rows of a time window to CSV or JSON Lines."""
        from serving.audit import export

        try:
            n = export(settings(), start, end, out)
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc)) from exc
        console.print(f"wrote {n} audit rows to {out}")

    app.add_typer(keys, name="keys")
    app.add_typer(audit, name="audit")
