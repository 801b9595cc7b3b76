"""Root of the ``talentloop`` command. Each sub-module adds the commands of one stage; heavy libraries
(feast, lightgbm, mlflow, shap) are imported inside the commands that need them, so ``--help`` is fast."""

from __future__ import annotations

import typer

from talentloop.cli import contract, demo, erase, features, governance, ingest, serve, simulate, train

app = typer.Typer(
    name="talentloop",
    help="TalentLoop: performance reviews → training → better reviews, with attrition risk and skill demand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

simulate.register(app)
ingest.register(app)
features.register(app)
contract.register(app)
train.register(app)
governance.register(app)
erase.register(app)
serve.register(app)
demo.register(app)
