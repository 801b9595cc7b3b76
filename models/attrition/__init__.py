"""Attrition risk months ahead: labels with censoring, a discrete-time LightGBM hazard, drivers and levers."""

from models.attrition.model import HORIZONS, AttritionModel, ThresholdPolicy

__all__ = ["HORIZONS", "AttritionModel", "ThresholdPolicy"]
