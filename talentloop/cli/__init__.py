"""Root of the ``talentloop`` command. Each sub-module adds the commands of one stage; heavy libraries
(feast, lightgbm, mlflow, shap) are imported inside the commands that need them, so ``--help`` is fast."""

from __future__ import annotations

from typing import Annotated

import typer

from talentloop.cli import (
    _common,
    backup,
    contract,
    demo,
    erase,
    features,
    governance,
    ingest,
    monitor,
    points,
    report,
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
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="Show third-party warnings and INFO logs (hidden by default: they are not for users).")] = False,
) -> None:
    """TalentLoop: performance reviews → training → better reviews, with attrition risk and skill demand."""
    import os

    os.umask(0o077)  # everything a run writes (HR data, keys, databases) is readable by its owner only
    _common.VERBOSE = _common.VERBOSE or verbose  # the commands a demo runs keep the demo's choice
    if not _common.VERBOSE:
        _common.quiet_third_parties()
    from features import progress
    from talentloop.cli._progress import reporter

    ctx.with_resource(progress.use(reporter()))  # long steps draw a bar (or one line each) until the command ends


simulate.register(app)
ingest.register(app)
features.register(app)
contract.register(app)
train.register(app)
talent_pool.register(app)  # after train: adds `train potential` and `score potential` to its groups
points.register(app)  # after train: adds `score points`; and diagnose, points, training-needs, webhook
governance.register(app)
monitor.register(app)
erase.register(app)
serve.register(app)
demo.register(app)
backup.register(app)
report.register(app)
