"""Inline SVG charts for the console (no script, no external asset): the 1-12 month risk curve, the drivers'
waterfall, the skill-demand fan chart and a stacked bar of risk bands. Each returns markup with
``role="img"`` and an ``aria-label`` / ``<title>`` saying in words what it shows."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

FONT = 'font-family="system-ui, \'WenQuanYi Zen Hei\', sans-serif"'
BAND_COLOURS = {"very_high": "#b3261e", "high": "#e8710a", "medium": "#f9c74f", "low": "#90be6d"}


def _nice_top(v: float) -> float:
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if v <= step * 4:
            return step * 4 if v > step * 3 else step * 3 if v > step * 2 else step * 2 if v > step else step
    return 1.0


def risk_curve(points: Sequence[tuple[int, float]], label: str, axis: str, fmt_pct, highlight: int | None = None,
               width: int = 520, height: int = 220) -> Markup:
    left, right, top, bottom = 52, 16, 14, 40
    top_v = _nice_top(max((r for _, r in points), default=0.01) * 1.05)
    xs = lambda h: left + (h - 1) / 11 * (width - left - right)  # noqa: E731
    ys = lambda r: top + (1 - r / top_v) * (height - top - bottom)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(label)}" {FONT} font-size="12"><title>{escape(label)}</title>']
    for i in range(5):
        v = top_v * i / 4
        y = ys(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{escape(fmt_pct(v, 0))}</text>')
    for h in range(1, 13):
        parts.append(f'<text x="{xs(h):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#444">{h}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                 f'fill="#444">{escape(axis)}</text>')
    path = " ".join(f"{xs(h):.1f},{ys(r):.1f}" for h, r in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5fa8" stroke-width="2.5"/>')
    for h, r in points:
        big = h == highlight
        parts.append(f'<circle cx="{xs(h):.1f}" cy="{ys(r):.1f}" r="{5 if big else 3}" '
                     f'fill="{"#b3261e" if big else "#1f5fa8"}"><title>{h}: {escape(fmt_pct(r, 1))}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def waterfall(base: float, steps: Sequence[tuple[str, float]], base_label: str, end_label: str, label: str,
              width: int = 620) -> Markup:
    """Horizontal waterfall on the model's raw scale: the base value, each driver's push, the running total."""
    row, left, right, top = 30, 230, 70, 8
    height = top + row * (len(steps) + 2) + 8
    totals = [base]
    for _, c in steps:
        totals.append(totals[-1] + c)
    lo, hi = min(totals), max(totals)
    pad = max((hi - lo) * 0.08, 0.05)
    lo, hi = lo - pad, hi + pad
    xs = lambda v: left + (v - lo) / (hi - lo) * (width - left - right)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(label)}" {FONT} font-size="12"><title>{escape(label)}</title>']

    def text(y: float, s: str) -> str:
        short = s if len(s) <= 30 else s[:29] + "…"
        return f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#222">{escape(short)}</text>'

    y = top + row / 2
    parts.append(text(y, base_label) + f'<line x1="{xs(base):.1f}" x2="{xs(base):.1f}" y1="{y - 9:.1f}" '
                 f'y2="{y + 9:.1f}" stroke="#444" stroke-width="3"/>')
    for i, (name, c) in enumerate(steps):
        y = top + row * (i + 1.5)
        a, b = sorted((totals[i], totals[i + 1]))
        colour = "#b3261e" if c > 0 else "#2e7d32"
        parts.append(text(y, name) + f'<rect x="{xs(a):.1f}" y="{y - 9:.1f}" width="{max(xs(b) - xs(a), 1.5):.1f}" '
                     f'height="18" fill="{colour}"><title>{escape(name)}: {c:+.3f}</title></rect>'
                     f'<text x="{xs(b) + 4:.1f}" y="{y + 4:.1f}" fill="#444">{c:+.2f}</text>')
        parts.append(f'<line x1="{xs(totals[i + 1]):.1f}" x2="{xs(totals[i + 1]):.1f}" y1="{y + 9:.1f}" '
                     f'y2="{y + row - 9:.1f}" stroke="#999" stroke-dasharray="2,2"/>')
    y = top + row * (len(steps) + 1.5)
    parts.append(text(y, end_label) + f'<line x1="{xs(totals[-1]):.1f}" x2="{xs(totals[-1]):.1f}" y1="{y - 9:.1f}" '
                 f'y2="{y + 9:.1f}" stroke="#444" stroke-width="3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def fan(history: Sequence[tuple[str, float]], forecast: Sequence[tuple[str, float, float, float]], label: str,
        legend: tuple[str, str, str], fmt_month, width: int = 620, height: int = 240) -> Markup:
    """Observed history then the forecast's P50 line inside its P10-P90 band; months as ``YYYY-MM-DD``."""
    left, right, top, bottom = 48, 16, 26, 36
    months = [m for m, _ in history] + [m for m, *_ in forecast]
    index = {m: i for i, m in enumerate(months)}
    values = [v for _, v in history] + [x for _, lo, mid, hi in forecast for x in (lo, mid, hi)]
    top_v = max(values + [1.0]) * 1.1
    n = max(len(months) - 1, 1)
    xs = lambda m: left + index[m] / n * (width - left - right)  # noqa: E731
    ys = lambda v: top + (1 - v / top_v) * (height - top - bottom)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(label)}" {FONT} font-size="12"><title>{escape(label)}</title>']
    for i in range(5):
        v = top_v * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ys(v):.1f}" y2="{ys(v):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{ys(v) + 4:.1f}" text-anchor="end" fill="#444">{v:,.0f}</text>')
    step = max(1, len(months) // 6)
    for i, m in enumerate(months):
        if i % step == 0 or i == len(months) - 1:
            parts.append(f'<text x="{xs(m):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'fill="#444">{escape(fmt_month(m))}</text>')
    if forecast:
        anchor = [history[-1]] if history else []
        upper = [(m, v) for m, v in anchor] + [(m, hi) for m, _, _, hi in forecast]
        lower = [(m, lo) for m, lo, _, _ in reversed(forecast)] + [(m, v) for m, v in anchor]
        poly = " ".join(f"{xs(m):.1f},{ys(v):.1f}" for m, v in upper + lower)
        parts.append(f'<polygon points="{poly}" fill="#1f5fa8" fill-opacity="0.18" stroke="none"/>')
        mid = " ".join(f"{xs(m):.1f},{ys(v):.1f}" for m, v in anchor + [(m, p50) for m, _, p50, _ in forecast])
        parts.append(f'<polyline points="{mid}" fill="none" stroke="#1f5fa8" stroke-width="2.5" '
                     f'stroke-dasharray="6,3"/>')
        for m, lo, p50, hi in forecast:
            parts.append(f'<circle cx="{xs(m):.1f}" cy="{ys(p50):.1f}" r="3.5" fill="#1f5fa8"><title>'
                         f'{escape(fmt_month(m))}: {p50:,.0f} ({lo:,.0f}–{hi:,.0f})</title></circle>')
    if history:
        line = " ".join(f"{xs(m):.1f},{ys(v):.1f}" for m, v in history)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#222" stroke-width="2"/>')
    lx = left
    for colour, dash, text_ in (("#222", "", legend[0]), ("#1f5fa8", ' stroke-dasharray="6,3"', legend[1])):
        parts.append(f'<line x1="{lx}" x2="{lx + 22}" y1="12" y2="12" stroke="{colour}" stroke-width="2.5"{dash}/>'
                     f'<text x="{lx + 27}" y="16" fill="#222">{escape(text_)}</text>')
        lx += 40 + 8 * len(text_)
    parts.append(f'<rect x="{lx}" y="6" width="22" height="12" fill="#1f5fa8" fill-opacity="0.18"/>'
                 f'<text x="{lx + 27}" y="16" fill="#222">{escape(legend[2])}</text></svg>')
    return Markup("".join(parts))


def band_bar(counts: dict[str, int], order: Sequence[str], names: dict[str, str], label: str,
             width: int = 140, height: int = 16) -> Markup:
    total = sum(counts.values()) or 1
    parts = [f'<svg class="bar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(label)}"><title>{escape(label)}</title>']
    x = 0.0
    for band in order:
        w = counts.get(band, 0) / total * width
        if w > 0:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{BAND_COLOURS[band]}">'
                         f'<title>{escape(names[band])}: {counts[band]}</title></rect>')
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))
