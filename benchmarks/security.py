"""Benchmark: how long the security checks take against the reference stack (they run in every `make test`).

Usage: .venv/bin/python benchmarks/security.py [--runs 3]

Starts the reference stack once (from cached images), then in each run: the access matrix and the
hostile-input sweep of each API service, and the data-flow audit of everything the stack has said so
far. Prints the requests sent and the median and range of the seconds each took. Nothing is timed
inside a test: quote this output (re-measure on a quiet machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

from crucible import secrets, settings
from crucible.stack import session
from crucible.timings import Timings
from crucible.vocabulary.auth import Auth
from crucible.vocabulary.contracts import documents
from crucible.vocabulary.security import access, hostile
from crucible.vocabulary.security.audit import Audit
from crucible.vocabulary.security.probe import Probe

SERVICES = ("orders", "inventory", "payments", "fraud")


def timed(function) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.monotonic()
    result = function()
    return time.monotonic() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    options = settings.load(start=Path(__file__).resolve().parents[1])
    project = session.load_project(options)
    client, _ = session.prepare(project, Timings())
    stack = session.start(client, project, Timings())
    served = documents.load(options, stack)
    audit = Audit.start(stack, options, secrets.of_project(project, options))
    seconds: dict[str, list[float]] = {}
    requests: dict[str, int] = {}
    try:
        for run in range(1, args.runs + 1):
            uid = uuid.uuid4().hex[:8]
            probe = Probe(stack, options, Auth(options, project), f"crucible-bench-{uid}", uid, served)
            for service in SERVICES:
                took, cells = timed(lambda: access.matrix(probe, service))
                seconds.setdefault(f"access {service}", []).append(took)
                requests[f"access {service}"] = len(cells)
                took, (attempts, _) = timed(lambda: hostile.sweep(probe, service))
                seconds.setdefault(f"hostile {service}", []).append(took)
                requests[f"hostile {service}"] = len(attempts)
            took, _ = timed(lambda: audit.run(stack, options))
            seconds.setdefault("data-flow audit", []).append(took)
            print(f"run {run}: " + ", ".join(f"{name} {values[-1]:.2f}s" for name, values in seconds.items()),
                  flush=True)
    finally:
        if audit.tap is not None:
            audit.tap.remove()
        stack.down()
    print("\nseconds per check (median, min, max), requests sent:")
    for name, values in seconds.items():
        print(f"  {name:<20} {statistics.median(values):6.2f} {min(values):6.2f} {max(values):6.2f}"
              f"  {requests.get(name, '-')}")
    total = [sum(values[i] for values in seconds.values()) for i in range(args.runs)]
    print(f"  {'all together':<20} {statistics.median(total):6.2f} {min(total):6.2f} {max(total):6.2f}"
          f"  {sum(requests.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
