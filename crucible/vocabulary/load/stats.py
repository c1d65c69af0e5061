"""Exact statistics of a load: percentiles from every latency (nearest rank, no buckets), throughput, errors.

``percentile(values, 95)`` is the smallest latency that at least 95% of the requests did not exceed,
the way a person reads "95% of the requests were answered within ...".
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from crucible.errors import TestDataError
from crucible.vocabulary.load.generator import LoadResult, Sample

SHOWN_PERCENTILES = (50, 90, 95, 99)


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of the values (0 < p <= 100); they need not be sorted."""
    if not values:
        raise TestDataError("There is no latency to compute a percentile from: no request was answered.")
    if not 0 < p <= 100:
        raise TestDataError(f"A percentile lies above 0 and at most 100, not {p:g}.")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def share_within(samples: list[Sample], limit_ms: float) -> float:
    """The share (0-1) of the requests answered, and answered within ``limit_ms``."""
    if not samples:
        return 0.0
    return sum(1 for s in samples if not s.failed and s.latency_ms is not None and s.latency_ms <= limit_ms) \
        / len(samples)


@dataclass(frozen=True)
class Summary:
    """The numbers of one operation (or of all of them) in a load."""

    operation: str
    count: int
    failed: int
    errors: dict[str, int]
    per_second: float
    percentiles: dict[float, float]
    fastest: float
    slowest: float
    mean: float

    @property
    def failure_rate(self) -> float:
        """Failed requests / all requests (0-1)."""
        return self.failed / self.count if self.count else 0.0


def summarize(operation: str, samples: list[Sample], elapsed: float) -> Summary:
    """Count, failures by kind, requests per second and the shown percentiles of some samples."""
    latencies = [s.latency_ms for s in samples if s.latency_ms is not None]
    errors = Counter(s.error for s in samples if s.failed)
    shown = {p: percentile(latencies, p) for p in SHOWN_PERCENTILES} if latencies else {}
    return Summary(operation, len(samples), sum(errors.values()), dict(errors.most_common()),
                   len(samples) / elapsed if elapsed > 0 else 0.0, shown,
                   min(latencies, default=0.0), max(latencies, default=0.0),
                   sum(latencies) / len(latencies) if latencies else 0.0)


def summaries(result: LoadResult) -> list[Summary]:
    """One summary per operation, then one of all requests when there are several operations."""
    per_operation = [summarize(name, samples, result.elapsed) for name, samples in result.operations().items()]
    if len(per_operation) > 1:
        per_operation.append(summarize("all", result.samples, result.elapsed))
    return per_operation


def table(result: LoadResult) -> str:
    """The percentile table of a load, as aligned text."""
    head = ["operation", "requests", "failed", "req/s", "min", *[f"p{p}" for p in SHOWN_PERCENTILES], "max", "mean"]
    rows = [head]
    for s in summaries(result):
        rows.append([s.operation, str(s.count), f"{s.failed} ({s.failure_rate:.1%})", f"{s.per_second:.1f}",
                     f"{s.fastest:.1f}", *[f"{s.percentiles.get(p, 0.0):.1f}" for p in SHOWN_PERCENTILES],
                     f"{s.slowest:.1f}", f"{s.mean:.1f}"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    errors = Counter(s.error for s in result.samples if s.failed)
    notes = [f"{result.title}: {len(result.samples)} requests in {result.elapsed:.1f} s; latencies in ms "
             f"(exact, nearest rank)"]
    if errors:
        notes.append("errors: " + ", ".join(f"{kind} x{n}" for kind, n in errors.most_common()))
    return "\n".join([notes[0], "", *lines, "", *notes[1:]]).rstrip() + "\n"


def slowest(samples: list[Sample], n: int = 5) -> list[Sample]:
    """The ``n`` slowest requests (those that got no answer first)."""
    return sorted(samples, key=lambda s: (s.latency_ms is not None, -(s.latency_ms or 0.0)))[:n]


def worst(samples: list[Sample], n: int = 5) -> str:
    """The worst requests in words, with their correlation ids: ``crucible-ab-load-00042 (1204 ms)``."""
    return ", ".join(f"{s.request_id} ({s.error or f'{s.latency_ms:.0f} ms'}"
                     + (f", {s.latency_ms:.0f} ms" if s.error and s.latency_ms is not None else "") + ")"
                     for s in slowest(samples, n))
