"""Every sentence shown to people, in English and Chinese: units, coded values, attrition drivers and levers,
alert context, course reasons and skill-demand drivers. The rules (docs/wording.md): units that fit the size,
missing values worded as missing or left out, every code translated, never ``unknown``, ``n/a``, ``nan``,
``None``, ``?`` or a raw code."""

from models.wording.units import LANGS, count, duration, level, money, number, pct, pct_points, value_of

__all__ = ["LANGS", "count", "duration", "level", "money", "number", "pct", "pct_points", "value_of"]
