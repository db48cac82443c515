"""Server-rendered inline SVG bar charts: pictures without JavaScript or a chart library."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from markupsafe import Markup, escape

BAR_COLOUR = "#2b6cb0"
ALERT_COLOUR = "#c53030"


def horizontal_bars(
    items: Sequence[Tuple[str, Optional[float]]], title: str, colour: str = BAR_COLOUR,
    width: int = 560, row_height: int = 22, label_width: int = 190,
) -> Markup:
    """One bar per (label, value); a None value is drawn as "–" with no bar."""
    values = [v for _, v in items if v is not None]
    top = max(values, default=0) or 1
    plot = width - label_width - 60
    height = row_height * max(1, len(items)) + 8
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_height
        mid = y + row_height / 2 + 4
        parts.append(f'<text x="{label_width - 6}" y="{mid:.0f}" text-anchor="end" '
                     f'class="label">{escape(label)}</text>')
        if value is not None:
            length = plot * value / top
            parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" '
                         f'height="{row_height - 6}" fill="{colour}"/>')
        shown = "–" if value is None else f"{value:g}"
        x = label_width + (plot * value / top if value else 0) + 4
        parts.append(f'<text x="{x:.1f}" y="{mid:.0f}" class="value">{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def vertical_bars(
    items: Sequence[Tuple[str, float]], title: str, colour: str = BAR_COLOUR,
    width: int = 560, height: int = 180, label_every: int = 5,
) -> Markup:
    """Columns (one per day, say); every `label_every`-th label is written under its column."""
    top = max((v for _, v in items), default=0) or 1
    n = max(1, len(items))
    step = (width - 40) / n
    base = height - 24
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="2" y="12" class="value">{top:g}</text>',
        f'<line x1="30" y1="{base}" x2="{width}" y2="{base}" stroke="#999"/>',
    ]
    for i, (label, value) in enumerate(items):
        x = 34 + i * step
        h = (base - 16) * value / top
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{max(1.0, step - 2):.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value:g}</title></rect>')
        if i == n - 1:  # the last label ends at its column, inside the picture
            parts.append(f'<text x="{x + step:.1f}" y="{height - 8}" text-anchor="end" '
                         f'class="label">{escape(label)}</text>')
        elif i % label_every == 0 and i < n - label_every / 2:
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" class="label">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
