"""Thresholds, like k6's, read as sentences: a percentile, a share within a time, a failure rate, a rate.

Each check raises ``AssertionError`` naming the threshold, the measured value, and the worst
requests' correlation ids (their ``X-Request-ID``, in every service's log lines). ``noun`` is what
a feature calls the requests ("requests", "orders").
"""

from __future__ import annotations

from crucible.errors import TestDataError
from crucible.vocabulary.load import stats
from crucible.vocabulary.load.generator import LoadResult, Sample


def ordinal(p: float) -> str:
    """``95`` -> ``95th``, ``99.9`` -> ``99.9th``, ``1`` -> ``1st``."""
    text = f"{p:g}"
    if "." not in text and text[-2:] not in ("11", "12", "13") and text[-1] in "123":
        return text + {"1": "st", "2": "nd", "3": "rd"}[text[-1]]
    return text + "th"


def _measured(result: LoadResult, samples: list[Sample], noun: str) -> str:
    return f"over {len(samples)} {noun} ({result.title})"


def expect_percentile_under(result: LoadResult, p: float, limit_ms: float, noun: str = "requests") -> None:
    """The ``p``-th percentile response time is under ``limit_ms``."""
    latencies = [s.latency_ms for s in result.samples if s.latency_ms is not None]
    if not latencies:
        raise AssertionError(f"threshold p({p:g}) < {limit_ms:g} ms: no {noun[:-1] if noun.endswith('s') else noun} "
                             f"got an answer ({len(result.samples)} sent; {stats.worst(result.samples)})")
    value = stats.percentile(latencies, p)
    assert value < limit_ms, (
        f"threshold p({p:g}) < {limit_ms:g} ms broken: the {ordinal(p)} percentile response time was "
        f"{value:.0f} ms {_measured(result, result.samples, noun)}; slowest: {stats.worst(result.samples)}")


def expect_share_within(result: LoadResult, share: float, limit_ms: float, noun: str = "requests") -> None:
    """At least ``share`` percent of the requests are answered within ``limit_ms``."""
    measured = stats.share_within(result.samples, limit_ms) * 100
    assert measured >= share, (
        f"threshold '{share:g}% of the {noun} answered within {limit_ms:g} ms' broken: only {measured:.1f}% were "
        f"answered within {limit_ms:g} ms, {_measured(result, result.samples, noun)}; slowest: "
        f"{stats.worst(result.samples)}")


def expect_failures_below(result: LoadResult, share: float, noun: str = "requests") -> None:
    """Fewer than ``share`` percent of the requests fail (no answer, or an answer that is not accepted)."""
    failed = [s for s in result.samples if s.failed]
    rate = len(failed) / len(result.samples) * 100 if result.samples else 0.0
    if not result.samples:
        raise AssertionError(f"threshold 'fewer than {share:g}% of the {noun} fail': no {noun} were sent")
    kinds = stats.summarize("all", result.samples, result.elapsed).errors
    assert rate < share, (
        f"threshold 'fewer than {share:g}% of the {noun} fail' broken: {rate:.1f}% failed ({len(failed)} of "
        f"{len(result.samples)}: " + ", ".join(f"{k} x{n}" for k, n in kinds.items())
        + f") ({result.title}); first failures: {stats.worst(failed)}")


def expect_rate_at_least(result: LoadResult, per_second: float, noun: str = "requests") -> None:
    """At least ``per_second`` requests per second were answered."""
    answered = sum(1 for s in result.samples if not s.failed)
    rate = answered / result.elapsed if result.elapsed > 0 else 0.0
    assert rate >= per_second, (
        f"threshold 'at least {per_second:g} {noun} per second' broken: {rate:.1f} answered per second "
        f"({answered} in {result.elapsed:.1f} s, {result.title}); slowest: {stats.worst(result.samples)}")


def percentage(value: float, what: str = "a share") -> float:
    """A percentage as features write it (``1%``, ``99.5%``): above 0 and at most 100, else TestDataError."""
    if not 0 < value <= 100:
        raise TestDataError(f"{what} is a percentage above 0% and at most 100%, not {value:g}%.")
    return value
