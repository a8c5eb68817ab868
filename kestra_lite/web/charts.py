"""Charts drawn on the server as inline SVG (no JavaScript): the dashboard's executions per
state over time, as stacked bars with axes, a legend and a <title> tooltip on every bar.

`stacked_bars(rows, start=, end=, buckets=)` takes the histogram rows
`(bucket start, state, count)` and returns a Markup <svg>. Bars are placed on a continuous
time axis from `start` to `end`, so empty buckets show as gaps whatever the store's bucket
alignment.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from markupsafe import Markup, escape

# Kestra's state colours, in stacking order (bottom first).
STATE_COLORS = {
    "SUCCESS": "#1b9e4b", "WARNING": "#e0a100", "FAILED": "#d32f2f", "KILLED": "#8e2424",
    "CANCELLED": "#b26a00", "RUNNING": "#1e6fd9", "CREATED": "#6d9eeb", "RESTARTED": "#7b8fd9",
    "KILLING": "#c2185b", "PAUSED": "#8a8fa3", "QUEUED": "#b0b6c7", "RETRYING": "#5c6bc0",
    "RETRIED": "#9fa8da", "SKIPPED": "#cfd3dc",
}
WIDTH, HEIGHT = 900, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 40


@dataclass
class Bar:
    start: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def nice_ceiling(value: int) -> int:
    """The smallest 1/2/5 x 10^n at or above `value` (at least 1): the y axis's top."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def group_bars(rows) -> list[Bar]:
    """Histogram rows (bucket start, state, count) as one bar per bucket, oldest first."""
    buckets: dict[datetime, dict[str, int]] = defaultdict(dict)
    for bucket, state, count in rows:
        if count:
            counts = buckets[_utc(bucket)]
            counts[str(state)] = counts.get(str(state), 0) + int(count)
    return [Bar(start, counts) for start, counts in sorted(buckets.items())]


def _label(moment: datetime, span: timedelta) -> str:
    if span <= timedelta(days=2):
        return moment.strftime("%H:%M")
    if span <= timedelta(days=120):
        return moment.strftime("%b %d")
    return moment.strftime("%Y-%m")


def _tooltip(bar: Bar, step: timedelta) -> str:
    end = bar.start + step
    pattern = "%Y-%m-%d %H:%M" if step < timedelta(days=1) else "%Y-%m-%d"
    return f"{bar.start.strftime(pattern)} – {end.strftime(pattern)} UTC"


def _ordered_states(bars: list[Bar]) -> list[str]:
    present = {state for bar in bars for state in bar.counts}
    known = [state for state in STATE_COLORS if state in present]
    return known + sorted(present - set(known))


def stacked_bars(rows, *, start: datetime | None = None, end: datetime | None = None,
                 buckets: int = 30, title: str = "Executions per state") -> Markup:
    bars = group_bars(rows)
    if start is None:
        start = bars[0].start if bars else datetime.now(timezone.utc) - timedelta(days=7)
    if end is None:
        end = datetime.now(timezone.utc)
    start, end = _utc(start), _utc(end)
    if end <= start:
        end = start + timedelta(hours=1)
    span = end - start
    step = span / max(buckets, 1)
    if len(bars) > 1:   # the store's own bucket width when it shows
        step = min(b.start - a.start for a, b in zip(bars, bars[1:]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, y_step = y_scale(max((bar.total for bar in bars), default=0))
    states = _ordered_states(bars)

    def x_of(moment: datetime) -> float:
        return LEFT + (moment - start) / span * plot_w

    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 24}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    out += _y_axis(top, y_step, plot_w, plot_h)
    out += _x_axis(start, end, plot_w, plot_h)
    bar_w = max(step / span * plot_w - 2, 1.5)
    for bar in bars:
        x = min(max(x_of(bar.start) + 1, LEFT), LEFT + plot_w - bar_w)
        y = TOP + plot_h
        when = _tooltip(bar, step)
        out.append(f'<g class="bar" data-start="{bar.start.isoformat()}">')
        for state in states:
            count = bar.counts.get(state, 0)
            if not count:
                continue
            h = count / top * plot_h
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{STATE_COLORS.get(state, "#999")}" data-state="{escape(state)}">'
                       f"<title>{escape(when)}: {escape(state)} {count}</title></rect>")
        out.append("</g>")
    out += _legend(states)
    if not bars:
        out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h / 2:.0f}" '
                   'text-anchor="middle" class="empty">No executions in this range</text>')
    out.append("</svg>")
    return Markup("".join(out))


def y_scale(largest: int) -> tuple[int, int]:
    """(top, step): whole-number ticks, about four of them, the top at or above `largest`."""
    step = nice_ceiling(-(-max(largest, 1) // 4))
    return step * max(-(-max(largest, 1) // step), 1), step


def _y_axis(top: int, step: int, plot_w: float, plot_h: float) -> list[str]:
    out = []
    for value in range(0, top + 1, step):
        y = TOP + plot_h - value / top * plot_h
        out.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" '
                   f'y2="{y:.1f}" stroke="#e3e6ef"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                   f'class="tick">{value}</text>')
    return out


TICK_STEPS = [timedelta(minutes=m) for m in (1, 5, 15, 30)] + \
    [timedelta(hours=h) for h in (1, 3, 6, 12)] + \
    [timedelta(days=d) for d in (1, 2, 7, 14, 30, 91, 182, 365)]


def time_ticks(start: datetime, end: datetime, most: int = 8) -> list[datetime]:
    """Round moments (whole minutes, hours, UTC midnights...) between start and end, at
    most `most` of them."""
    span = end - start
    step = next((s for s in TICK_STEPS if span / s <= most), TICK_STEPS[-1])
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    first = epoch + step * -(-(start - epoch) // step)
    ticks = []
    while first <= end and len(ticks) <= most:
        ticks.append(first)
        first += step
    return ticks


def _x_axis(start: datetime, end: datetime, plot_w: float, plot_h: float) -> list[str]:
    span = end - start
    out = [f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
           'stroke="#667085"/>']
    for moment in time_ticks(start, end):
        x = LEFT + (moment - start) / span * plot_w
        label = _label(moment, span)
        if span <= timedelta(days=2) and moment.hour == 0 and moment.minute == 0:
            label = moment.strftime("%b %d")
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + plot_h}" '
                   f'y2="{TOP + plot_h + 4}" stroke="#667085"/>'
                   f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                   f'class="tick">{escape(label)}</text>')
    return out


def _legend(states: list[str]) -> list[str]:
    out, x = [], LEFT
    y = HEIGHT + 10
    for state in states:
        out.append(f'<g class="legend"><rect x="{x}" y="{y}" width="10" height="10" '
                   f'fill="{STATE_COLORS.get(state, "#999")}"/>'
                   f'<text x="{x + 14}" y="{y + 9}" class="tick">{escape(state)}</text></g>')
        x += 22 + 7 * len(state)
    return out
