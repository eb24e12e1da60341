"""Trends of the key counts: the daily snapshots, one point per week, drawn as server-side SVG.

No charting library and no script: the view computes coordinates, the template writes an
``<svg>`` with ``<polyline>``/``<circle>`` and a data table for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from inventory.counts import MEASURES_BY_KEY
from inventory.models import InventorySnapshot

TREND_WEEKS = 26
# (snapshot key, label, css class): what the trend chart follows.
TREND_SERIES: tuple[tuple[str, str, str], ...] = (
    ("unowned", "No owner", "s1"),
    ("stale", "Stale", "s2"),
    ("orphaned", "Orphaned", "s3"),
    ("privileged_unowned", "Privileged and nobody owns", "s4"),
    ("risk_tier:critical", "Critical risk", "s5"),
)
WIDTH, HEIGHT = 720, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 28


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class Series:
    key: str
    label: str
    css: str
    values: list[int | None]
    points: str = ""
    dots: list[tuple[float, float, int, str]] = field(default_factory=list)

    @property
    def latest(self) -> int | None:
        return next((v for v in reversed(self.values) if v is not None), None)


@dataclass
class TrendChart:
    weeks: list[date]
    series: list[Series]
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT
    plot_bottom: int = HEIGHT - PAD_BOTTOM

    @property
    def points_with_data(self) -> int:
        return sum(
            1 for i in range(len(self.weeks)) if any(s.values[i] is not None for s in self.series)
        )

    @property
    def rows(self) -> list[tuple[date, list[int | None]]]:
        return [(w, [s.values[i] for s in self.series]) for i, w in enumerate(self.weeks)]


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def weekly_counts(
    *, today: date, current: dict[str, int], weeks: int = TREND_WEEKS
) -> tuple[list[date], dict[date, dict[str, int]]]:
    """The last snapshot of each of the last ``weeks`` weeks; this week is the live count."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    by_week: dict[date, dict[str, int]] = {}
    for snap in InventorySnapshot.objects.filter(date__gte=first).order_by("date"):
        by_week[week_start(snap.date)] = dict(snap.counts)  # a later day of the week wins
    by_week[week_start(today)] = current
    return [first + timedelta(weeks=i) for i in range(weeks)], by_week


def trend_chart(*, today: date, current: dict[str, int]) -> TrendChart:
    weeks, by_week = weekly_counts(today=today, current=current)
    series = [
        Series(key, label, css, [by_week.get(w, {}).get(key) for w in weeks])
        for key, label, css in TREND_SERIES
        if key in MEASURES_BY_KEY
    ]
    top = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    span_x = WIDTH - PAD_LEFT - PAD_RIGHT
    span_y = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return round(PAD_LEFT + span_x * i / max(len(weeks) - 1, 1), 1)

    def y(v: int) -> float:
        return round(PAD_TOP + span_y * (1 - v / top), 1)

    for s in series:
        coords = [(x(i), y(v), v, weeks[i]) for i, v in enumerate(s.values) if v is not None]
        s.points = " ".join(f"{cx},{cy}" for cx, cy, _, _ in coords)
        s.dots = [(cx, cy, v, f"{s.label}, week of {w:%d %b %Y}: {v}") for cx, cy, v, w in coords]
    y_ticks = [(y(top * i // 4), top * i // 4) for i in range(5)]
    x_labels = [(x(i), f"{w:%d %b}") for i, w in enumerate(weeks) if i % 4 == (len(weeks) - 1) % 4]
    return TrendChart(weeks=weeks, series=series, y_ticks=y_ticks, x_labels=x_labels)


def counts_weeks_ago(*, today: date, weeks_back: int = 4) -> dict[str, int] | None:
    """The counts of the latest snapshot at least ``weeks_back`` weeks old (None: none yet)."""
    then = today - timedelta(weeks=weeks_back)
    snap = (
        InventorySnapshot.objects.filter(date__lte=then).order_by("-date").values("counts").first()
    )
    return dict(snap["counts"]) if snap else None
