"""``talentloop contract docs``: write docs/data-contract.md's generated part from the declaration."""

from __future__ import annotations

from pathlib import Path

import typer

from talentloop.cli._common import console


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The data contract of the four feeds.", no_args_is_help=True)

    @group.command("docs")
    def docs(out: Path = typer.Option(Path("docs/data-contract.md"), help="Markdown file to (re)write.")) -> None:
        """Regenerate the data-contract document from features/contract.py."""
        from features.contract_docs import write_contract_doc

        write_contract_doc(out)
        console.print(f"wrote {out}")

    app.add_typer(group, name="contract")
