"""Benchmark: how long the reference stack takes from `up` to every service ready, from cached images.

Usage: .venv/bin/python benchmarks/startup.py [--runs 5] [--cap 0.2,0.5,1.0]

Readiness checks start 0.1 s apart and back off to a cap; runs interleave the caps so that machine noise hits each of them alike, and prints the
median and range per interval and per service. Nothing is timed inside a test: quote this output.
"""

from __future__ import annotations

import argparse
import sys
import statistics
import time
from pathlib import Path

from crucible import settings
from crucible.stack import engine, images, readiness, session
from crucible.stack.running import Stack


def one_run(client, project) -> tuple[float, dict[str, float]]:
    """Start the stack once; return (seconds until all ready, service -> seconds until it was ready)."""
    stack = Stack(client, project)
    start = time.monotonic()
    try:
        stack.up()
        total = time.monotonic() - start
        return total, {name: r.ready_after for name, r in stack.running.items()}
    finally:
        stack.down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cap", default="0.2,0.5,1.0", help="readiness pause caps to compare (seconds)")
    args = parser.parse_args()
    polls = [float(p) for p in args.cap.split(",")]
    client = engine.connect()
    project = session.load_project(settings.load(start=Path(__file__).resolve().parents[1]))
    images.build_all(client, project)  # cached: makes sure nothing is built inside the timing
    results: dict[float, list[float]] = {p: [] for p in polls}
    for run in range(1, args.runs + 1):
        for poll in polls:
            readiness.POLL_CAP = poll
            total, _ = one_run(client, project)
            results[poll].append(total)
            print(f"run {run} cap {poll:.1f}s: all ready in {total:.2f}s", flush=True)
    print("\nwhole stack ready (from cached images), seconds:")
    for poll, values in results.items():
        print(f"  cap {poll:.1f}s: median {statistics.median(values):.2f}  "
              f"min {min(values):.2f}  max {max(values):.2f}  ({len(values)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
