"""Skill-demand forecast: demand, supply and gap per org unit × skill, months ahead, with intervals.

- :mod:`models.skill_demand.series`: validation of long-format monthly series and point-in-time features.
- :mod:`models.skill_demand.forecaster`: :class:`DemandForecaster`, a global direct LightGBM forecaster
  with conformal P10 / P50 / P90 and exact TreeSHAP explanations.
- :mod:`models.skill_demand.supply`: supply projection (holders − leavers + completions) and the gap.
- :mod:`models.skill_demand.reasons`: driver names and reason texts in English and Chinese.
"""

from models.skill_demand.forecaster import DemandForecaster
from models.skill_demand.series import validate_long

FEATURE_SERVICE = "skill_demand_v1"

__all__ = ["FEATURE_SERVICE", "DemandForecaster", "validate_long"]
