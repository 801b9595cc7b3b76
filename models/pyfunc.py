"""One MLflow pyfunc wrapper for every TalentLoop model.

The wrapped object is the fitted model class itself (pickled by MLflow with cloudpickle). It carries its
feature service name, column order, preprocessing, calibrator, thresholds and explainer as fitted
attributes, so whoever loads the pyfunc gets exactly what was trained. Serving unwraps it
(``loaded.unwrap_python_model().model``) to reach ``explain`` and the what-if levers.
"""

from __future__ import annotations

from typing import Any, Protocol

import mlflow.pyfunc
import pandas as pd


class FrameModel(Protocol):
    feature_service_: str

    def predict_frame(self, df: pd.DataFrame, **params: Any) -> pd.DataFrame: ...


class TalentLoopModel(mlflow.pyfunc.PythonModel):
    """``predict`` delegates to the model's ``predict_frame``; ``params`` are passed through."""

    def __init__(self, model: FrameModel):
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return self.model.predict_frame(model_input, **(params or {}))
