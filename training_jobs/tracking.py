"""MLflow plumbing shared by the training jobs: tracking URI from settings, one experiment per model with
artifacts in the workspace, log + register a version with a signature, and the alias rules
(every new version becomes ``challenger``; the first one also becomes ``champion``)."""

from __future__ import annotations

import json
from importlib.metadata import version as pkg_version
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature

from evaluation.compare import CHALLENGER, CHAMPION, aliases
from features.settings import Settings
from models.pyfunc import FrameModel, TalentLoopModel

PIP_REQUIREMENTS = [f"{p}=={pkg_version(p)}" for p in ("lightgbm", "numpy", "pandas", "scikit-learn", "mlflow")]


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at the workspace's tracking store and return a client."""
    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def experiment(settings: Settings, name: str) -> str:
    """Create (once) and select the experiment ``name`` with artifacts under the workspace; its id."""
    client = configure(settings)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        location = (settings.artifacts_dir / name).resolve().as_uri()
        exp_id = client.create_experiment(name, artifact_location=location)
    else:
        exp_id = exp.experiment_id
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


def log_and_register(
    model: FrameModel,
    registered_name: str,
    input_example: pd.DataFrame,
    metadata: dict[str, Any] | None = None,
    may_be_champion: bool = True,
) -> str:
    """Log the model as a pyfunc in the active run, register it and set aliases; returns the version.

    The version becomes ``challenger``; it also becomes ``champion`` when there is none and
    ``may_be_champion`` (the training job's own gate, e.g. not worse than the strongest baseline)."""
    output = model.predict_frame(input_example)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=TalentLoopModel(model),
        signature=infer_signature(input_example, output),
        input_example=input_example.head(3),
        registered_model_name=registered_name,
        pip_requirements=PIP_REQUIREMENTS,
        metadata={"feature_service": model.feature_service_, **(metadata or {})},
    )
    client = MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias(registered_name, CHALLENGER, version)
    if may_be_champion and CHAMPION not in aliases(client, registered_name):
        client.set_registered_model_alias(registered_name, CHAMPION, version)
    return version


def log_json(obj: Any, artifact_file: str) -> None:
    """Log a JSON artifact (UTF-8, Chinese kept readable)."""
    mlflow.log_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str), artifact_file)


def log_markdown(text: str, artifact_file: str) -> None:
    mlflow.log_text(text, artifact_file)
