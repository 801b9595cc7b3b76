"""``talentloop backup OUT`` and ``talentloop restore IN``: a workspace copied whole, consistent, and usable
on its own wherever it is restored (MLflow and Feast paths are rewritten to the new place)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, settings, writes


def register(app: typer.Typer) -> None:
    @app.command("backup")
    @writes("backup")
    def backup_command(out: Annotated[Path, typer.Argument(
            metavar="OUT", help="A new folder, or a file ending in .tar.gz.")]) -> None:
        """Copy the workspace (databases through SQLite's online backup, so a running server is fine)."""
        from features.workspace import backup

        try:
            n = backup(settings(), out)
        except (FileNotFoundError, FileExistsError, ValueError) as exc:
            raise fail(str(exc)) from exc
        console.print(f"backed up {n:,} files of {settings().home} to {out}")

    @app.command("restore")
    @writes("restore")
    def restore_command(source: Annotated[Path, typer.Argument(
            metavar="IN", help="A backup folder or .tar.gz made by `talentloop backup`.")]) -> None:
        """Restore a backup into an empty workspace (TALENTLOOP_HOME); it serves and trains on its own."""
        from features.workspace import restore

        try:
            done = restore(settings(), source)
        except (FileNotFoundError, FileExistsError) as exc:
            raise fail(str(exc)) from exc
        console.print(f"restored {done.pop('files'):,} files into {settings().home}"
                      + (f"; paths rewritten: {', '.join(f'{k} {v}' for k, v in done.items())}" if done else ""))
