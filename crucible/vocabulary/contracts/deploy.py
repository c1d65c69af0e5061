"""Can I deploy? Every consumer × provider pair of the committed pacts, with this run's verification of it.

A pair is *verified* when every interaction of its pact was honoured by the running provider in
this run, *failing* when one was not, and *not verified* when no scenario of the run verified that
provider. A consumer can be deployed when every provider it relies on is verified for it; a provider
when it honours every consumer's pact.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from crucible.vocabulary.contracts import pacts
from crucible.vocabulary.contracts.verification import RESULTS_GLOB

log = logging.getLogger(__name__)

VERIFIED, FAILING, NOT_VERIFIED = "verified", "failing", "not verified"


@dataclass
class Matrix:
    """The pairs of the pacts and what this run's verifications said of each."""

    pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    results: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def status(self, consumer: str, provider: str) -> str:
        """verified, failing or not verified."""
        found = self.results.get((consumer, provider))
        if found is None:
            return NOT_VERIFIED
        return FAILING if found[1] else VERIFIED

    def cell(self, consumer: str, provider: str) -> str:
        """What the table shows for a pair: its status (and how many interactions failed), '-' without a pact."""
        if (consumer, provider) not in self.pairs:
            return "-"
        status = self.status(consumer, provider)
        if status == FAILING:
            total, failed = self.results[consumer, provider]
            return f"{FAILING} ({failed} of {total})"
        return status

    def verdicts(self) -> list[str]:
        """One line per consumer and per provider: may it be deployed, and if not, because of which pairs."""
        lines = []
        for role, index in (("consumer", 0), ("provider", 1)):
            for name in sorted({pair[index] for pair in self.pairs}):
                blocking = [pair for pair in self.pairs if pair[index] == name and self.status(*pair) != VERIFIED]
                if not blocking:
                    lines.append(f"  {role} {name}: can deploy (every pact verified)")
                else:
                    why = ", ".join(f"{c}->{p} {self.status(c, p)}" for c, p in sorted(blocking))
                    lines.append(f"  {role} {name}: cannot deploy ({why})")
        return lines


def load(folder: Path, results_dir: Path) -> Matrix:
    """The matrix of the pacts in ``folder`` and the verifications recorded in ``results_dir``."""
    matrix = Matrix()
    for path in pacts.pact_files(folder):
        try:
            pact = pacts.read(path)
        except Exception as exc:  # an unreadable file is reported by the run that uses it
            log.warning("can-i-deploy: skipping %s: %s", path, exc)
            continue
        pair = (pact.get("consumer", {}).get("name", "?"), pact.get("provider", {}).get("name", "?"))
        matrix.pairs[pair] = len(pact.get("interactions", []))
    for path in sorted(results_dir.glob(RESULTS_GLOB)) if results_dir.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("can-i-deploy: skipping %s: %s", path.name, exc)
            continue
        for consumer, counts in data.get("pairs", {}).items():
            pair = (consumer, data.get("provider", "?"))
            total, failed = matrix.results.get(pair, (0, 0))
            matrix.results[pair] = (max(total, counts.get("interactions", 0)), max(failed, counts.get("failed", 0)))
    return matrix


def render(matrix: Matrix) -> str:
    """The matrix as a text table (consumers down, providers across) and a verdict per service."""
    if not matrix.pairs:
        return ""
    consumers = sorted({c for c, _ in matrix.pairs})
    providers = sorted({p for _, p in matrix.pairs})
    first = max(len("consumer \\ provider"), *(len(c) for c in consumers))
    widths = [max(len(p), *(len(matrix.cell(c, p)) for c in consumers)) for p in providers]
    lines = ["Can I deploy? Consumer x provider, from the committed pacts and this run's verification",
             "  " + "consumer \\ provider".ljust(first) + "  " + "  ".join(p.ljust(w) for p, w in zip(providers, widths))]
    for consumer in consumers:
        cells = "  ".join(matrix.cell(consumer, p).ljust(w) for p, w in zip(providers, widths))
        lines.append("  " + consumer.ljust(first) + "  " + cells)
    return "\n".join(lines + matrix.verdicts())
