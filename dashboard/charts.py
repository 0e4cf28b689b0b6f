"""Charts drawn on the server as SVG (no script): the geometry here, the markup in
``templates/organiser/_chart.html``, which gives every chart a title, a description and
a table with the same figures."""

from __future__ import annotations

from dataclasses import dataclass

from consent.history import History

WIDTH = 720
HEIGHT = 300
#: Room for the axis labels: left, right, top, bottom.
MARGIN = (44, 16, 12, 40)
#: At most this many hour labels along the bottom.
MAX_LABELS = 8


@dataclass(frozen=True, slots=True)
class Line:
    """One artwork's line: its title, colour number and SVG points."""

    title: str
    colour: int
    points: str
    last: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything ``_chart.html`` draws."""

    width: int
    height: int
    lines: tuple[Line, ...]
    #: (y, label) of the horizontal grid lines and (x, label) of the hour labels.
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]


def _step(top: int) -> int:
    """A round step for about four grid lines up to ``top``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top / step <= 5:
            return step
    return max(1, top // 4)


def history_chart(history: History) -> Chart:
    """A line per artwork: visitors who had given an opinion, hour by hour (a withheld
    hour breaks the line)."""
    left, right, top_margin, bottom = MARGIN
    inner_w = WIDTH - left - right
    inner_h = HEIGHT - top_margin - bottom
    count = len(history.hours)
    highest = max((n or 0 for s in history.series for n in s.visitors), default=0)
    step = _step(max(highest, 1))
    ceiling = max(step, -(-highest // step) * step)

    def x(index: int) -> float:
        return left + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)

    def y(value: int) -> float:
        return top_margin + inner_h - inner_h * value / ceiling

    lines = []
    for number, series in enumerate(history.series):
        shown = [(x(i), y(n)) for i, n in enumerate(series.visitors) if n is not None]
        if not shown:
            continue
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in shown)
        lines.append(Line(series.title, number % 6, points, shown[-1]))
    y_ticks = tuple((y(v), str(v)) for v in range(0, ceiling + 1, step))
    every = max(1, -(-count // MAX_LABELS))
    x_ticks = tuple(
        (x(i), f"{hour:%H:%M}") for i, hour in enumerate(history.hours) if i % every == 0
    )
    return Chart(WIDTH, HEIGHT, tuple(lines), y_ticks, x_ticks)
