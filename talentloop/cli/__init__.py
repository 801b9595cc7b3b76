"""Root of the ``talentloop`` command. Each sub-module adds the commands of one stage; heavy libraries
(feast, lightgbm, mlflow, shap) are imported inside the commands that need them, so ``--help`` is fast."""

from __future__ import annotations

from typing import Annotated

import typer

from talentloop.cli import (
    _common,
    contract,
    demo,
    erase,
    features,
    governance,
    ingest,
    serve,
    simulate,
    talent_pool,
    train,
)

app = typer.Typer(
    name="talentloop",
    help="TalentLoop: performance reviews → training → better reviews, with attrition risk and skill demand.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="Show third-party warnings and INFO logs (hidden by default: they are not for users).")] = False,
) -> None:
    """TalentLoop: performance reviews → training → better reviews, with attrition risk and skill demand."""
    if not verbose:
        _common.quiet_third_parties()


simulate.register(app)
ingest.register(app)
features.register(app)
contract.register(app)
train.register(app)
talent_pool.register(app)  # after train: adds `train potential` and `score potential` to its groups
governance.register(app)
erase.register(app)
serve.register(app)
demo.register(app)
