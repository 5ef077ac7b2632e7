"""Inline SVG charts for the HTML report: horizontal bars (grouped or stacked), a pareto, a trend.

Hand-written SVG rather than an embedded charting library: the page stays one small file that needs
no script at all (nothing to load, nothing to fail in the browser console, prints as it shows), and
every bar is an element in the DOM with its figure in a ``<title>`` tooltip, so a test can find it.
Each function returns one ``<svg class="chart">`` string; amounts come in as ``Decimal``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["BILLED", "DENIED", "PAID", "Bar", "axis", "hbars", "nice_max", "pareto", "trend"]

BILLED, PAID, DENIED = "#4263eb", "#2f9e44", "#e03131"
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
_e = html.escape


@dataclass(frozen=True)
class Bar:
    """One bar (or one segment of a stacked bar): its value, colour and tooltip."""

    value: Decimal
    color: str
    tip: str


def nice_max(value: Decimal, ticks: int = 4) -> Decimal:
    """An axis end at or above ``value`` whose ``ticks`` equal steps are round (1, 2, 2.5 or 5 times a
    power of ten): 1,930 -> 2,000 (steps of 500)."""
    if value <= 0:
        return Decimal(ticks)
    step = value / ticks
    power = Decimal(10) ** (step.adjusted())
    for m in (1, 2, Decimal("2.5"), 5, 10):
        if step <= m * power:
            return m * power * ticks
    return 10 * power * ticks


def axis(value: Decimal) -> tuple[Decimal, int]:
    """An axis end and its number of round steps (at most 5): 2,145 -> (2,500, 5), 360 -> (400, 4)."""
    if value <= 0:
        return Decimal(4), 4
    step = nice_max(value / 5, ticks=1)
    n = math.ceil(value / step)
    return step * n, n


def _short(v: Decimal) -> str:
    """An axis label: $0, $500, $1.5k, $2M."""
    if v >= 1_000_000:
        return f"${v / 1_000_000:.1f}M".replace(".0M", "M")
    if v >= 1000:
        return f"${v / 1000:.1f}k".replace(".0k", "k")
    return f"${v:.0f}"


def _svg(name: str, width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg class="chart" data-chart="{_e(name)}" role="img" aria-label="{_e(label)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg" {_FONT} font-size="12">' + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str]], x: int, y: int) -> list[str]:
    out = []
    for name, color in items:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" rx="2" fill="{color}"/>'
                   f'<text x="{x + 14}" y="{y}" fill="#495057">{_e(name)}</text>')
        x += 24 + 7 * len(name)
    return out


def hbars(name: str, label: str, rows: Sequence[tuple[str, Sequence[Bar]]], *, stacked: bool = False,
          legend: Sequence[tuple[str, str]] = (), value_text: Sequence[str] = (), width: int = 540) -> str:
    """Horizontal bars, one row per label; several bars per row side by side, or stacked end to end.
    ``value_text`` (one per row) is printed after the row's bars."""
    left, right = 170, 110
    bar_h = 16 if stacked else 12
    row_h = bar_h + 10 if stacked else bar_h * max(1, max((len(b) for _, b in rows), default=1)) + 12
    top = 26 if legend else 8
    height = top + row_h * len(rows) + 22
    totals = [sum((b.value for b in bars), Decimal(0)) if stacked else max((b.value for b in bars), default=Decimal(0))
              for _, bars in rows]
    end, ticks = axis(max(totals, default=Decimal(0)))
    scale = (width - left - right) / float(end)
    body = _legend(legend, left, 14) if legend else []
    for i in range(ticks + 1):
        x = left + (width - left - right) * i / ticks
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 18}" stroke="#e9ecef"/>'
                    f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#868e96">'
                    f'{_short(end * i / ticks)}</text>')
    for r, (text, bars) in enumerate(rows):
        y0 = top + r * row_h
        body.append(f'<text x="{left - 8}" y="{y0 + (row_h - 10) / 2 + 4:.1f}" text-anchor="end" fill="#212529">'
                    f"{_e(text[:28])}<title>{_e(text)}</title></text>")
        x = float(left)
        for j, b in enumerate(bars):
            w = max(float(b.value) * scale, 0.0)
            y = y0 if stacked else y0 + j * bar_h
            bx = x if stacked else float(left)
            body.append(f'<rect class="bar" x="{bx:.1f}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" rx="2" '
                        f'fill="{b.color}"><title>{_e(b.tip)}</title></rect>')
            if stacked:
                x += w
        if r < len(value_text):
            end_x = left + float(totals[r]) * scale + 6
            body.append(f'<text x="{end_x:.1f}" y="{y0 + (row_h - 10) / 2 + 4:.1f}" fill="#495057">'
                        f"{_e(value_text[r])}</text>")
    return _svg(name, width, height, label, body)


def pareto(name: str, label: str, items: Sequence[tuple[str, Decimal, float, str]], width: int = 1180) -> str:
    """Vertical bars largest first with the cumulative share as a line (right axis, 80% marked).
    ``items``: (code, amount, cumulative share 0-1, tooltip)."""
    height, left, right, top, bottom = 240, 60, 50, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    end = nice_max(max((a for _, a, _, _ in items), default=Decimal(0)))
    step = plot_w / max(len(items), 1)
    body = []
    for i in range(5):
        y = top + plot_h * (1 - i / 4)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e9ecef"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#868e96">{_short(end * i / 4)}</text>'
                    f'<text x="{width - right + 6}" y="{y + 4:.1f}" fill="#868e96">{25 * i}%</text>')
    y80 = top + plot_h * 0.2
    body.append(f'<line x1="{left}" y1="{y80:.1f}" x2="{width - right}" y2="{y80:.1f}" stroke="#fab005" '
                'stroke-dasharray="4 3"><title>80% of the dollars</title></line>')
    points = []
    for i, (code, amount, cumulative, tip) in enumerate(items):
        h = plot_h * float(amount / end)
        x = left + i * step + step * 0.15
        body.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
                    f'height="{h:.1f}" rx="2" fill="{DENIED}"><title>{_e(tip)}</title></rect>'
                    f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                    f'fill="#212529">{_e(code)}</text>')
        points.append((left + i * step + step / 2, top + plot_h * (1 - cumulative)))
    if points:
        body.append('<polyline class="line" fill="none" stroke="#343a40" stroke-width="2" points="'
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#343a40"><title>{items[i][2] * 100:.1f}% '
                 f"cumulative</title></circle>" for i, (x, y) in enumerate(points)]
    body.append(f'<text x="{left}" y="{height - 6}" fill="#868e96">CARC (bars: dollars; line: cumulative share)'
                "</text>")
    return _svg(name, width, height, label, body)


def trend(name: str, label: str, weeks: Sequence[str], series: Sequence[tuple[str, str, Sequence[Decimal]]],
          tip: str = "{series} week of {week}: {value}", width: int = 1180) -> str:
    """Lines over weeks, one per series (name, colour, values), with a dot and a tooltip per week."""
    height, left, right, top, bottom = 260, 60, 20, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    end, ticks = axis(max((v for _, _, vals in series for v in vals), default=Decimal(0)))
    step = plot_w / max(len(weeks) - 1, 1)
    body = _legend([(n, c) for n, c, _ in series], left, 14)
    for i in range(ticks + 1):
        y = top + plot_h * (1 - i / ticks)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e9ecef"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#868e96">'
                    f'{_short(end * i / ticks)}</text>')
    every = max(1, len(weeks) // 14)
    for i, w in enumerate(weeks):
        if i % every == 0 or i == len(weeks) - 1:
            body.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 18}" text-anchor="middle" '
                        f'fill="#868e96">{_e(w[5:])}</text>')
    for sname, color, vals in series:
        pts = [(left + i * step, top + plot_h * (1 - float(v / end))) for i, v in enumerate(vals)]
        body.append(f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2.5" '
                    f'stroke-linejoin="round" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"><title>'
                 f"{_e(tip.format(series=sname, week=weeks[i], value=f'${vals[i]:,.2f}'))}</title></circle>"
                 for i, (x, y) in enumerate(pts)]
    body.append(f'<text x="{left}" y="{height - 6}" fill="#868e96">week of the date of service (Monday)</text>')
    return _svg(name, width, height, label, body)
