"""Contract coverage: which documented operations and response codes a run exercised, and which it never touched.

Each behave process writes what it saw into the results folder (``crucible-contracts-*.json``);
``crucible report`` adds the files of every process of the run together and shows the table in the
console and in the report. A documented code ``4XX`` is touched by any 4xx answer, ``default`` by any
answer the operation documents no other way.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

FILE_GLOB = "crucible-contracts-*.json"


@dataclass
class Coverage:
    """The documented operations of each service and what exchanges exercised, for one process or a whole run."""

    documented: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    exercised: dict[str, dict[str, Counter]] = field(default_factory=dict)
    unchecked: Counter = field(default_factory=Counter)
    violations: Counter = field(default_factory=Counter)
    deliberate: Counter = field(default_factory=Counter)
    checked: int = 0
    check_seconds: float = 0.0

    def document(self, service: str, source: str, operations: dict[str, list[str]]) -> None:
        """Note a service's documented operations and their response codes."""
        self.documented[service] = operations
        self.sources[service] = source

    def exercise(self, service: str, operation: str | None, status: int) -> None:
        """Count one exchange with a service (operation None: a path or method the document does not have)."""
        self.exercised.setdefault(service, {}).setdefault(operation or "(undocumented)", Counter())[str(status)] += 1

    def merge(self, other: "Coverage") -> None:
        """Add another process's coverage to this one."""
        self.documented.update(other.documented)
        self.sources.update(other.sources)
        for service, operations in other.exercised.items():
            for operation, codes in operations.items():
                self.exercised.setdefault(service, {}).setdefault(operation, Counter()).update(codes)
        self.unchecked.update(other.unchecked)
        self.violations.update(other.violations)
        self.deliberate.update(other.deliberate)
        self.checked += other.checked
        self.check_seconds += other.check_seconds

    def to_json(self) -> dict:
        """The coverage as a JSON object."""
        return {"documented": self.documented, "sources": self.sources,
                "exercised": {s: {o: dict(c) for o, c in ops.items()} for s, ops in self.exercised.items()},
                "unchecked": dict(self.unchecked), "violations": dict(self.violations),
                "deliberate": dict(self.deliberate), "checked": self.checked, "check_seconds": self.check_seconds}

    @classmethod
    def from_json(cls, data: dict) -> "Coverage":
        """Coverage from :meth:`to_json`'s object."""
        return cls(documented=data.get("documented", {}), sources=data.get("sources", {}),
                   exercised={s: {o: Counter(c) for o, c in ops.items()}
                              for s, ops in data.get("exercised", {}).items()},
                   unchecked=Counter(data.get("unchecked", {})), violations=Counter(data.get("violations", {})),
                   deliberate=Counter(data.get("deliberate", {})), checked=data.get("checked", 0),
                   check_seconds=data.get("check_seconds", 0.0))

    def write(self, results_dir: Path) -> Path | None:
        """Write this process's coverage into the results folder (nothing when it saw no service)."""
        if not self.documented and not self.exercised:
            return None
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"crucible-contracts-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return path

    def rows(self) -> list[tuple[str, str, list[str], list[str]]]:
        """(service, operation, codes exercised, documented codes never touched) for every documented operation."""
        rows = []
        for service in sorted(self.documented):
            seen = self.exercised.get(service, {})
            for operation, codes in sorted(self.documented[service].items(), key=_by_path):
                statuses = sorted(seen.get(operation, {}))
                touched = {code for code in codes if any(_covers(code, s, codes) for s in statuses)}
                rows.append((service, operation, statuses, [c for c in codes if c not in touched]))
        return rows

    def totals(self, service: str) -> tuple[int, int, int, int]:
        """(operations exercised, operations, documented responses touched, documented responses) of a service."""
        rows = [row for row in self.rows() if row[0] == service]
        operations = sum(1 for row in rows if row[2])
        codes = sum(len(self.documented[service][row[1]]) for row in rows)
        return operations, len(rows), codes - sum(len(row[3]) for row in rows), codes


def _by_path(item: tuple[str, list[str]]) -> tuple[str, str]:
    """Sort operations by path, then method."""
    method, _, path = item[0].partition(" ")
    return path, method


def _covers(code: str, status: str, documented: list[str]) -> bool:
    """True if a documented response code is the one an answer with this status matched."""
    if code == status:
        return True
    if code.upper().endswith("XX"):
        return status[:1] == code[:1] and status not in documented
    return code == "default" and status not in documented and f"{status[:1]}XX" not in documented


def collect(results_dir: Path) -> Coverage:
    """The coverage of a whole run: every process's file in the results folder, added together."""
    total = Coverage()
    for path in sorted(results_dir.glob(FILE_GLOB)):
        try:
            total.merge(Coverage.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("skipping unreadable contract coverage %s: %s", path.name, exc)
    return total


def render(coverage: Coverage) -> str:
    """The coverage as a text table, one line per documented operation, and a summary per service."""
    if not coverage.documented and not coverage.unchecked:
        return ""
    lines = ["Contract coverage: documented operations and response codes this run exercised"]
    rows = coverage.rows()
    width = max([len(f"{s} {o}") for s, o, _, _ in rows] + [20])
    lines.append(f"  {'service / operation':<{width}}  {'exercised':<22}  never touched")
    for service, operation, statuses, untouched in rows:
        mark = ", ".join(statuses) if statuses else "-"
        lines.append(f"  {service + ' ' + operation:<{width}}  {mark:<22}  {', '.join(untouched) or '-'}")
    for service in sorted(coverage.documented):
        done, total, codes_done, codes = coverage.totals(service)
        extra = []
        undocumented = coverage.exercised.get(service, {}).get("(undocumented)")
        if undocumented:
            extra.append(f"{sum(undocumented.values())} request(s) to paths or methods it does not document")
        if coverage.deliberate[service]:
            extra.append(f"{coverage.deliberate[service]} deliberately invalid request(s) refused")
        if coverage.violations[service]:
            extra.append(f"{coverage.violations[service]} contract violation(s)")
        lines.append(f"  {service}: {done} of {total} operations and {codes_done} of {codes} documented responses "
                     f"exercised ({coverage.sources.get(service, 'no document')})"
                     + ("; " + "; ".join(extra) if extra else ""))
    if coverage.checked:
        lines.append(f"  {coverage.checked} exchanges checked against their documents in {coverage.check_seconds:.2f}s "
                     f"({1000 * coverage.check_seconds / coverage.checked:.1f} ms each)")
    for service, count in sorted(coverage.unchecked.items()):
        lines.append(f"  {service}: {count} exchange(s) not contract-checked: it has no OpenAPI document "
                     f"(setting services.{service}.openapi)")
    return "\n".join(lines)
