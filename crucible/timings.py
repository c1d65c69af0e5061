"""Phase timings of a run, printed at its end."""

from __future__ import annotations

import time
from contextlib import contextmanager


class Timings:
    """Seconds spent in each named phase, in the order they ran."""

    def __init__(self):
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        """Time the block and add it to ``name``."""
        start = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - start

    def summary(self) -> str:
        """One line: each phase and the total."""
        parts = [f"{name} {secs:.1f}s" for name, secs in self.phases.items()]
        return "Timings: " + ", ".join(parts) + f" (total {sum(self.phases.values()):.1f}s)"
