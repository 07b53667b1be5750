"""Charts drawn on the server as inline SVG: no JavaScript, no chart library to vendor, readable
without colour (every bar and point has a <title>, and the figures are in the table beside).

    transit_histogram_svg([(courier, Totals), ...]) -> one row of bars per courier
    trend_svg([(week, rate | None), ...], target=0.95, direction="min") -> line + target line
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sellers.metrics import HIST_BUCKETS, Totals

PALETTE = ("#1F4E79", "#B35900", "#2E7D32", "#6A1B9A", "#AD1457", "#00695C", "#5D4037")


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text inside went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="chart">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def transit_histogram_svg(series: Sequence[tuple[str, Totals]]) -> SafeString:
    """Share of each courier's deliveries by business days in transit (0 .. 15+)."""
    bar, gap, left, row_height = 22, 4, 110, 70
    width = left + HIST_BUCKETS * (bar + gap) + 10
    height = 30 + row_height * max(1, len(series))
    body = []
    for b in range(HIST_BUCKETS):
        x = left + b * (bar + gap) + bar / 2
        label = f"{b}+" if b == HIST_BUCKETS - 1 else str(b)
        body.append(
            f'<text x="{x:.0f}" y="{height - 8}" font-size="11" text-anchor="middle">{label}</text>'
        )
    if not series:
        body.append(
            '<text x="10" y="40" font-size="13">No delivered parcels in this period.</text>'
        )
    for row, (name, totals) in enumerate(series):
        count = totals.transit_count
        top = 10 + row * row_height
        colour = PALETTE[row % len(PALETTE)]
        body.append(
            f'<text x="0" y="{top + 35}" font-size="13">{escape(name)}</text>'
            f'<text x="0" y="{top + 52}" font-size="11" fill="#555">{count} delivered</text>'
        )
        peak = max(totals.hist) if count else 0
        for b, n in enumerate(totals.hist):
            if not n:
                continue
            h = 50 * n / peak
            x = left + b * (bar + gap)
            share = 100 * n / count
            body.append(
                f'<rect x="{x}" y="{top + 55 - h:.1f}" width="{bar}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(name)}: {n} parcels ({share:.0f}%) in {b}'
                f"{'+' if b == HIST_BUCKETS - 1 else ''} business days</title></rect>"
            )
    return _svg(width, height, "Transit time distribution per courier (business days)", body)


def trend_svg(
    points: Sequence[tuple[date, float | None]], *, target: float, direction: str, label: str
) -> SafeString:
    """A weekly rate as a line, the target as a dashed line; weeks without data leave a gap."""
    width, height, pad = 320, 90, 8
    values = [v for _, v in points if v is not None]
    low = min([*values, target, 1.0]) - 0.02
    high = max([*values, target]) + 0.01
    low, high = max(0.0, low), min(1.0, max(high, low + 0.05))

    def y(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - (value - low) / (high - low))

    step = (width - 2 * pad) / max(1, len(points) - 1)
    body = [
        f'<line x1="{pad}" x2="{width - pad}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
        f'stroke="#a00000" stroke-dasharray="4 3"><title>target {target:.0%}</title></line>'
    ]
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (week, value) in enumerate(points):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x = pad + i * step
        segment.append(f"{x:.1f},{y(value):.1f}")
        bad = value < target if direction == "min" else value >= target
        colour = "#a00000" if bad else "#1F4E79"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
            f"<title>week of {week:%d %b %Y}: {value:.1%}</title></circle>"
        )
    if segment:
        segments.append(segment)
    for points_text in segments:
        body.insert(
            1,
            f'<polyline fill="none" stroke="#1F4E79" stroke-width="2" '
            f'points="{" ".join(points_text)}"/>',
        )
    if not values:
        body.append(f'<text x="{pad}" y="{height / 2}" font-size="12">No data yet</text>')
    return _svg(width, height, f"{label}: weekly trend", body)
