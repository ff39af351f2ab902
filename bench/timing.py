"""Repeat a callable, keep the wall-clock samples, summarise them as median and p95."""

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default), so n=30 gives a p95 between ranks."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Measurement:
    group: str
    name: str
    detail: str = ""
    samples_ms: list[float] = field(default_factory=list)
    status: str = "measured"  # measured | not measured | failed
    note: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def n(self) -> int:
        return len(self.samples_ms)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else math.nan

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 0.95)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(n=self.n, p50_ms=_round(self.p50), p95_ms=_round(self.p95))
        data["samples_ms"] = [round(s, 3) for s in self.samples_ms]
        return data


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return math.nan


def measure(
    measurement: Measurement,
    action: Callable[[], Any],
    *,
    runs: int,
    warmups: int,
    budget_seconds: float | None = None,
    min_runs: int = 1,
) -> Measurement:
    """Warm up, then time `runs` calls; with a budget, stop early once it is spent (n shows how many ran).

    The action's last result is kept in `info["result"]` by the caller if it wants it; exceptions end the case as
    failed with the error in the note, so one broken page does not stop the whole benchmark.
    """
    measurement.load_before = load_average()
    started = time.perf_counter()
    try:
        for _ in range(warmups):
            action()
            if budget_seconds is not None and time.perf_counter() - started > budget_seconds / 3:
                break
        spent_start = time.perf_counter()
        for i in range(runs):
            t0 = time.perf_counter()
            action()
            measurement.samples_ms.append((time.perf_counter() - t0) * 1000)
            if (
                budget_seconds is not None
                and i + 1 >= min_runs
                and time.perf_counter() - spent_start + measurement.samples_ms[-1] / 1000 > budget_seconds
            ):
                break
    except Exception as exc:  # noqa: BLE001 - record and carry on with the other cases
        measurement.status = "failed"
        measurement.note = f"{type(exc).__name__}: {exc}"[:300]
    measurement.load_after = load_average()
    return measurement
