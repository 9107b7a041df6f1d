"""A 24-hour sparkline: counts per bucket as one SVG polyline. Pure: counts in, points out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 120.0, 28.0, 2.0


@dataclass(frozen=True)
class Sparkline:
    points: str  # the polyline's points attribute, "x,y x,y ..."
    highest: int
    total: int


def sparkline(counts: Sequence[int], *, width: float = WIDTH, height: float = HEIGHT) -> Sparkline:
    """Counts oldest first, scaled so the highest touches the top (a flat line along the bottom when all are 0)."""
    highest = max(counts, default=0)
    step = (width - 2 * PAD) / max(len(counts) - 1, 1)
    scale = (height - 2 * PAD) / highest if highest else 0.0
    points = " ".join(f"{round(PAD + i * step, 1)},{round(height - PAD - n * scale, 1)}" for i, n in enumerate(counts))
    return Sparkline(points=points, highest=highest, total=sum(counts))
