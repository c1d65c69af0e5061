"""Each container's CPU and memory, sampled through the engine's stats API while something runs.

One sampler thread reads a one-shot stats sample of every container of the stack about once a
second; CPU is the share of one core used between two samples (100% = one core busy), memory the
container's usage less its page cache, as ``docker stats`` shows them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from docker.errors import DockerException
from requests import RequestException

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """One service's CPU (% of one core) and memory (bytes), ``at`` seconds after sampling began."""

    at: float
    service: str
    cpu_percent: float
    memory_bytes: int


def _memory(stats: dict) -> int:
    """Memory in use less the page cache (cgroup v2 ``inactive_file``, v1 ``total_inactive_file``)."""
    memory = stats.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", 0))
    return max(0, int(memory.get("usage") or 0) - int(cache or 0))


def _cpu(stats: dict) -> tuple[int, int, int]:
    """(container CPU ns, system CPU ns, online CPUs) of one stats sample."""
    cpu = stats.get("cpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    cpus = cpu.get("online_cpus") or len(usage.get("percpu_usage") or []) or 1
    return int(usage.get("total_usage") or 0), int(cpu.get("system_cpu_usage") or 0), int(cpus)


class UsageSampler:
    """Samples every container of a stack until stopped (use as a context manager): one thread per container,
    each reading the engine's one-shot stats (the engine answers about once a second per container)."""

    def __init__(self, stack, interval: float = 1.0):
        self.stack = stack
        self.interval = interval
        self.readings: list[Reading] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(name, running.container.id), daemon=True,
                                          name=f"usage-{name}") for name, running in sorted(stack.running.items())]
        self._start = 0.0

    def __enter__(self) -> "UsageSampler":
        self._start = time.perf_counter()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2 * self.interval)
        self.readings.sort(key=lambda r: (r.at, r.service))

    def _run(self, name: str, container_id: str) -> None:
        last = None
        while not self._stop.is_set():
            began = time.perf_counter()
            try:
                stats = self.stack.client.api.stats(container_id, stream=False, one_shot=True)
            except (DockerException, RequestException) as exc:  # a container a fault stopped has no stats
                log.debug("no stats for %s: %s", name, exc)
                stats = None
            if stats:
                last = self._add(name, stats, last)
            self._stop.wait(max(0.0, self.interval - (time.perf_counter() - began)))

    def _add(self, name: str, stats: dict, before: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        now = _cpu(stats)
        if not now[0]:
            return before
        if before is not None:
            system = now[1] - before[1]
            percent = (now[0] - before[0]) / system * now[2] * 100 if system > 0 else 0.0
            self.readings.append(Reading(time.perf_counter() - self._start, name, max(0.0, percent),
                                         _memory(stats)))
        return now

    def csv(self) -> str:
        """The readings as CSV: seconds, service, cpu_percent, memory_mib."""
        lines = ["seconds,service,cpu_percent,memory_mib"]
        lines += [f"{r.at:.2f},{r.service},{r.cpu_percent:.1f},{r.memory_bytes / 2**20:.1f}" for r in self.readings]
        return "\n".join(lines) + "\n"
