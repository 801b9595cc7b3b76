"""Money beside probability for the pay lever: the cost of the raise against the expected cost of the exit
it would avoid.

- raise: ``base_pay × (−v) / (1 + v)`` a year, with ``v = pay_vs_band_mid`` (pay / midpoint − 1), and its share
  over the risk horizon (``× h / 12``);
- expected exit cost avoided: ``(risk before − risk after) × replacement_cost_multiple × base_pay``, where the
  replacement cost of a leaver is a multiple of annual pay (``Settings.replacement_cost_multiple``, 0.5 by
  default; published estimates run from about half to twice annual pay, see docs/wording.md).
"""

from __future__ import annotations

from models.wording.units import value_of


def price_levers(levers: list[dict], base_pay: object, pay_vs_band_mid: object, horizon: int,
                 replacement_cost_multiple: float) -> list[dict]:
    """``levers`` (as ``AttritionModel.levers`` gives them, one person) with the pay lever priced; others as
    they are. Without a known pay the pay lever carries no money figures."""
    pay, v = value_of(base_pay), value_of(pay_vs_band_mid)
    out = []
    for lever in levers:
        if lever["lever"] == "pay_to_band_midpoint" and pay is not None and v is not None and -1 < v < 0:
            annual = pay * (-v) / (1 + v)
            avoided = max(0.0, lever["risk_before"] - lever["risk_after"]) * replacement_cost_multiple * pay
            lever = {**lever, "raise_cost_annual": round(annual, 0), "raise_cost": round(annual * horizon / 12, 0),
                     "exit_cost_avoided": round(avoided, 0), "replacement_cost": round(replacement_cost_multiple * pay, 0),
                     "replacement_cost_multiple": replacement_cost_multiple, "horizon": horizon}
        out.append(lever)
    return out
