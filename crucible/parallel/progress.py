"""Console progress of a run with workers: scenarios done of all, failures so far, elapsed, estimated remaining."""

from __future__ import annotations

import time

from crucible.parallel.claims import Done
from crucible.parallel.plan import Item

GOOD = ("passed", "skipped")


def clock(seconds: float) -> str:
    """Seconds as m:ss (h:mm:ss from an hour on)."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """What has finished so far, and how long the rest should take."""

    def __init__(self, items: list[Item], timed: bool = False):
        self.items = items
        self.timed = timed  # estimates are seconds from the history (else scenario counts)
        self.started = time.monotonic()
        self.finished: dict[int, Done] = {}
        self.total = sum(item.scenarios for item in items if item.selected)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def failures(self) -> int:
        """Items that did not pass (failed, broken, lost)."""
        return sum(done.status not in GOOD for done in self.finished.values())

    def remaining(self) -> float | None:
        """Expected seconds left: the parallel rest at the pace the workers keep, then the disruptive rest."""
        done = [self.items[i] for i in self.finished]
        if not done:
            return None
        left = [item for i, item in enumerate(self.items) if i not in self.finished]
        parallel_done = sum(item.estimate for item in done if not item.disruptive)
        parallel_left = sum(item.estimate for item in left if not item.disruptive)
        serial_left = sum(item.estimate for item in left if item.disruptive)
        wall = self.elapsed / parallel_done if parallel_done else 0.0
        return parallel_left * wall + serial_left * self._serial_pace()

    def _serial_pace(self) -> float:
        """Seconds per estimate unit of one item running alone: measured once one has, else the history's own."""
        serial = [(self.items[i].estimate, d.seconds) for i, d in self.finished.items() if self.items[i].disruptive]
        if not serial and self.timed:
            return 1.0
        pairs = serial or [(self.items[i].estimate, d.seconds) for i, d in self.finished.items()]
        return sum(seconds for _, seconds in pairs) / max(sum(estimate for estimate, _ in pairs), 1e-9)

    def record(self, done: Done) -> str | None:
        """Note a finished item; return its progress line (None for one the options left out)."""
        self.finished[done.index] = done
        item = self.items[done.index]
        if not item.selected:
            return None
        count = sum(self.items[i].scenarios for i in self.finished if self.items[i].selected)
        width = len(str(self.total))
        left = self.remaining()
        if count >= self.total:
            tail = "all done"
        elif left is None:
            tail = "estimating the rest"
        else:
            tail = f"about {clock(left)} left"
        status = done.status if done.status in GOOD else done.status.upper()
        return (f"[{count:>{width}}/{self.total}] {status:<7} {item.name} ({done.seconds:.1f}s, worker "
                f"{done.worker}) | {self.failures} failed, {clock(self.elapsed)} elapsed, {tail}")
