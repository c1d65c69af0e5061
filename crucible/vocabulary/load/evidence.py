"""What a stakeholder sees of a load in the report: charts (PNG), the percentile table, CPU and memory.

Attached to the step that ran the load: a latency-over-time chart (every request a dot, failures
in red, the 95th percentile of each second as a line, faults during the load as vertical lines), a
throughput chart (answered and failed requests per second), the percentile table, and each
container's CPU and memory over the load (a chart and the CSV series).
"""

from __future__ import annotations

import io
import logging
import math
from collections import defaultdict

import allure

from crucible.stack.usage import UsageSampler
from crucible.vocabulary.load import stats
from crucible.vocabulary.load.generator import LoadResult

log = logging.getLogger(__name__)


def _pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed), imported on first use."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def _mark_happenings(axis, result: LoadResult) -> None:
    for happening in result.happenings:
        if happening.started is not None:
            axis.axvline(happening.started, color="tab:orange", linestyle="--", linewidth=1)
            axis.annotate(happening.name, (happening.started, 1), xycoords=("data", "axes fraction"),
                          fontsize=7, color="tab:orange", rotation=90, va="top", ha="right")


def _finish(figure, axis, result: LoadResult, ylabel: str, title: str) -> bytes:
    """Label a chart of the load, mark the faults during it, and render it as PNG."""
    _mark_happenings(axis, result)
    axis.set_xlabel("seconds into the load")
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7, loc="upper left")
    return _png(figure)


def latency_chart(result: LoadResult) -> bytes:
    """Every request's latency over the load, failures in red, each second's 95th percentile as a line."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 3.6))
    answered = [s for s in result.samples if s.latency_ms is not None and not s.failed]
    failed = [s for s in result.samples if s.latency_ms is not None and s.failed]
    axis.scatter([s.started for s in answered], [s.latency_ms for s in answered], s=4, alpha=0.5,
                 color="tab:blue", label="answered")
    if failed:
        axis.scatter([s.started for s in failed], [s.latency_ms for s in failed], s=8, color="tab:red",
                     label="failed")
    per_second: dict[int, list[float]] = defaultdict(list)
    for sample in answered + failed:
        per_second[int(sample.started)].append(sample.latency_ms)
    seconds = sorted(per_second)
    axis.plot([t + 0.5 for t in seconds], [stats.percentile(per_second[t], 95) for t in seconds],
              color="black", linewidth=1.2, label="p95 of each second")
    return _finish(figure, axis, result, "response time (ms)", f"Response times: {result.title}")


def throughput_chart(result: LoadResult) -> bytes:
    """Answered and failed requests per second of the load."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 3.0))
    width = max(1, math.ceil(result.elapsed))
    ok, bad = [0] * width, [0] * width
    for sample in result.samples:
        slot = min(width - 1, max(0, int(sample.started)))
        (bad if sample.failed else ok)[slot] += 1
    axis.bar(range(width), ok, width=0.9, align="edge", color="tab:green", label="answered")
    axis.bar(range(width), bad, width=0.9, align="edge", bottom=ok, color="tab:red", label="failed")
    return _finish(figure, axis, result, "requests per second", f"Throughput: {result.title}")


def usage_chart(sampler: UsageSampler) -> bytes:
    """Each container's CPU (% of one core) and memory (MiB) over the load."""
    plt = _pyplot()
    figure, (cpu, memory) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    by_service = defaultdict(list)
    for reading in sampler.readings:
        by_service[reading.service].append(reading)
    for service, readings in sorted(by_service.items()):
        cpu.plot([r.at for r in readings], [r.cpu_percent for r in readings], label=service, linewidth=1)
        memory.plot([r.at for r in readings], [r.memory_bytes / 2**20 for r in readings], label=service, linewidth=1)
    cpu.set_ylabel("CPU (% of one core)")
    memory.set_ylabel("memory (MiB)")
    memory.set_xlabel("seconds since sampling began")
    cpu.set_title("Containers during the load (engine stats)", fontsize=9)
    cpu.legend(fontsize=7, loc="upper left", ncol=3)
    return _png(figure)


def attach(result: LoadResult, sampler: UsageSampler | None) -> None:
    """Attach the charts, the percentile table and the containers' usage to the current step."""
    allure.attach(stats.table(result), name="Percentiles (ms)", attachment_type=allure.attachment_type.TEXT)
    if not result.samples:
        return
    try:
        allure.attach(latency_chart(result), name="Response times over the load",
                      attachment_type=allure.attachment_type.PNG)
        allure.attach(throughput_chart(result), name="Throughput", attachment_type=allure.attachment_type.PNG)
        if sampler is not None and sampler.readings:
            allure.attach(usage_chart(sampler), name="Container CPU and memory",
                          attachment_type=allure.attachment_type.PNG)
            allure.attach(sampler.csv(), name="Container CPU and memory (series)",
                          attachment_type=allure.attachment_type.CSV)
    except Exception:  # charts are evidence: they must never turn a verdict into a harness error
        log.warning("could not draw the load's charts", exc_info=True)
