"""Benchmark: what checking every exchange against its service's OpenAPI document adds to scenario time.

Usage: .venv/bin/python benchmarks/contracts.py [--rounds 5] [--tags "not @load"]

Brings the reference stack up once and runs the same scenarios against it again and again, alternating
runs without contract checks (``-D contracts.check=false``) and with them, so that machine noise hits
both alike. Scenario time is the sum of the scenarios' durations in each run's Allure results. It
prints each round, the median ratio (target: at most 1.10) and, from the runs with checks, the time
spent inside the checks themselves. Nothing is timed inside a test: quote this output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from crucible import settings
from crucible.stack import session
from crucible.timings import Timings
from crucible.vocabulary.contracts.coverage import collect

ROOT = Path(__file__).resolve().parents[1]
FORMATTER = "crucible.report.formatter:CrucibleFormatter"
# Load and faults (timed by their own bounds, and disruptive), pacts and generated requests (neither goes through
# the checked client) are left out.
DEFAULT_TAGS = "not @load and not @faults and not @disruptive and not @pact and not @generated"


def scenario_seconds(results: Path) -> tuple[float, int, int]:
    """(sum of scenario durations, scenarios, scenarios that did not pass) of one run's results."""
    total, count, bad = 0.0, 0, 0
    for path in results.glob("*-result.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        if result["status"] == "skipped":  # left out by the tags
            continue
        total += (result["stop"] - result["start"]) / 1000
        count += 1
        if result["status"] != "passed":
            bad += 1
            message = (result.get("statusDetails") or {}).get("message") or ""
            print(f"       {result['status']}: {result['name']}: {message.splitlines()[0] if message else ''}",
                  flush=True)
    return total, count, bad


def suite(folder: Path) -> Path:
    """The reference suite in a folder of its own (no behave.ini: each run names its results folder)."""
    folder.mkdir()
    for name in ("environment.py", "steps", "features", "pacts", "crucible.toml", "docker"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def one_run(cwd: Path, run_id: str, check: bool, tags: str, results: Path) -> tuple[float, int, int]:
    """Run the scenarios once against the running stack; return what scenario_seconds says of it."""
    shutil.rmtree(results, ignore_errors=True)
    command = [sys.executable, "-m", "behave", "--format", FORMATTER, "--outfile", str(results), "--format", "null",
               "--tags", tags, "-D", f"attach={run_id}", "-D", f"report.results={results}",
               "-D", f"contracts.check={'true' if check else 'false'}", "features"]
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode not in (0, 1):
        raise SystemExit(f"behave failed to run:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return scenario_seconds(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tags", default=DEFAULT_TAGS, help=f"behave tag expression (default: {DEFAULT_TAGS})")
    args = parser.parse_args()
    os.chdir(ROOT)
    options = settings.load(start=ROOT)
    project = session.load_project(options)
    client, _ = session.prepare(project, Timings())
    stack = session.start(client, project, Timings())
    work = Path(tempfile.mkdtemp(prefix="crucible-contracts-bench-"))
    cwd = suite(work / "suite")
    ratios, checked, with_seconds, times_without, times_with = [], [], 0.0, [], []
    try:
        one_run(cwd, stack.run_id, True, args.tags, work / "warm-up")  # first imports and connections, not counted
        print(f"scenarios: {args.tags}; {args.rounds} rounds, each: a run without checks and one with them (odd rounds "
              f"without first, even rounds with first)")
        print(f"{'round':>5}  {'scenarios':>9}  {'without':>9}  {'with':>9}  {'ratio':>6}")
        for number in range(1, args.rounds + 1):
            # Alternate which run goes first: the database grows and the machine's load drifts during a round.
            order = [(False, "without"), (True, "with")] if number % 2 else [(True, "with"), (False, "without")]
            got = {check: one_run(cwd, stack.run_id, check, args.tags, work / f"{name}-{number}") for check, name in order}
            (without, count, bad_without), (with_checks, _, bad_with) = got[False], got[True]
            checked.append(collect(work / f"with-{number}"))
            ratios.append(with_checks / without)
            with_seconds += with_checks
            times_without.append(without)
            times_with.append(with_checks)
            flag = f"  ({bad_without}/{bad_with} did not pass)" if bad_without or bad_with else ""
            print(f"{number:>5}  {count:>9}  {without:>8.2f}s  {with_checks:>8.2f}s  {ratios[-1]:>6.3f}{flag}",
                  flush=True)
    finally:
        stack.down()
        shutil.rmtree(work, ignore_errors=True)
    median = statistics.median(ratios)
    exchanges = sum(c.checked for c in checked)
    seconds = sum(c.check_seconds for c in checked)
    print(f"\nmedian ratio with/without checks: {median:.3f} ({(median - 1) * 100:+.1f}% scenario time; "
          f"target at most +10%), range {min(ratios):.3f}-{max(ratios):.3f}")
    print(f"all rounds together: {sum(times_with):.2f}s with checks / {sum(times_without):.2f}s without = "
          f"{sum(times_with) / sum(times_without):.3f}")
    print(f"fastest run without checks {min(times_without):.2f}s, with checks {min(times_with):.2f}s: ratio "
          f"{min(times_with) / min(times_without):.3f}")
    print(f"inside the checks: {seconds:.2f}s for {exchanges} exchanges over {len(checked)} runs "
          f"({1000 * seconds / max(1, exchanges):.2f} ms per exchange), {100 * seconds / max(with_seconds, 1e-9):.1f}% "
          f"of those runs' scenario time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
