"""Benchmark: the reference suite serially and with N workers (default 2), in one sitting, same results.

Usage: .venv/bin/python benchmarks/workers.py [--workers 2] [--runs 1] [BEHAVE OPTIONS ...]

Each round runs `crucible run` and `crucible run --workers N` one after the other, alternating which goes
first (images cached, a history of their own in a temporary folder, seeded from the project's), and
compares the scenario time (the phase after the stack is up; start-up and teardown are not in it) and
the scenario -> status map of both. It also prints the share of the serial scenario time spent in
disruptive scenarios, which run alone in both modes and bound the speed-up (Amdahl). Nothing is timed
inside a test: quote this output, re-measured on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crucible import settings
from crucible.parallel import plan
from crucible.report import flaky
from crucible.report import results as allure_results
from crucible.selfcheck import suite

ROOT = Path(__file__).resolve().parents[1]
CRUCIBLE = str(Path(sys.executable).parent / "crucible")
SCENARIOS = re.compile(r"Timings: .*scenarios (\d+(?:\.\d+)?)s")


def outcome(results: Path) -> dict[str, tuple[str, float, str]]:
    """Scenario (full name and example values) -> (status, seconds, message) from an Allure results folder (the
    last attempt of a retried scenario)."""
    return {suite.scenario_name(result): (result["status"], (result.get("stop", 0) - result.get("start", 0)) / 1000,
                                          (result.get("statusDetails") or {}).get("message") or "")
            for result in allure_results.load_results(results)}


def differences(serial: dict, parallel: dict) -> list[str]:
    """One line per scenario whose status differs, with the failure's message."""
    statuses = flaky.changed([{key: got[0] for key, got in serial.items()},
                              {key: got[0] for key, got in parallel.items()}])
    return [f"    {key}: serial {one}, workers {two}: "
            f"{(serial.get(key, ('', 0, ''))[2] or parallel.get(key, ('', 0, ''))[2])[:300]}"
            for key, (one, two) in statuses.items()]


def one_run(extra: list[str], behave_args: list[str], history: Path,
            results: Path) -> tuple[float, float, dict, int]:
    """One `crucible run`: (scenario seconds, wall seconds, outcome, exit code)."""
    env = {**os.environ, settings.env_name("report.history"): str(history)}
    started = time.monotonic()
    proc = subprocess.run([CRUCIBLE, "run", *extra, *behave_args], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - started
    timings = SCENARIOS.findall(proc.stdout)
    if not timings:
        sys.stdout.write(proc.stdout[-3000:])
        raise SystemExit(f"`crucible run {' '.join(extra)}` printed no timings (exit {proc.returncode})")
    return float(timings[-1]), wall, outcome(results), proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="rounds of (serial, workers)")
    args, behave_args = parser.parse_known_args()
    options = settings.load(start=ROOT)
    disruptive = {item.name for item in plan.select(ROOT, [*behave_args, str(options.path("features"))],
                                                    Path("/nonexistent"), options["run.disruptive_tags"])
                  if item.disruptive}
    ratios, identical = [], True
    with tempfile.TemporaryDirectory(prefix="crucible-bench-") as folder:
        history = Path(folder) / "history.jsonl"
        if options.path("report.history").is_file():
            shutil.copy(options.path("report.history"), history)
        for number in range(1, args.runs + 1):
            modes = [[], ["--workers", str(args.workers)]]
            if number % 2 == 0:  # alternate which goes first, so a machine getting busier hits both alike
                modes.reverse()
            measured = {bool(mode): one_run(mode, behave_args, history, options.path("report.results"))
                        for mode in modes}
            serial, serial_wall, serial_outcome, serial_code = measured[False]
            parallel, parallel_wall, parallel_outcome, parallel_code = measured[True]
            lines = differences(serial_outcome, parallel_outcome)
            same = not lines and serial_code == parallel_code
            identical &= same
            alone = sum(seconds for name, (_, seconds, _) in serial_outcome.items()
                        if any(name.startswith(d) for d in disruptive))
            ratios.append(serial / parallel)
            print(f"round {number}: serial scenarios {serial:.1f}s (wall {serial_wall:.1f}s, exit {serial_code}); "
                  f"{args.workers} workers scenarios {parallel:.1f}s (wall {parallel_wall:.1f}s, exit "
                  f"{parallel_code}); speed-up {serial / parallel:.2f}x; {len(serial_outcome)} scenarios, "
                  f"results {'identical' if same else 'DIFFERENT'}", flush=True)
            bound = serial / (alone + (serial - alone) / args.workers)
            print(f"  disruptive scenarios (run alone in both modes): {alone:.1f}s of the serial "
                  f"{serial:.1f}s; best possible speed-up with {args.workers} workers {bound:.2f}x"
                  + (" (the measured one is above it: the machine's load changed between the runs)"
                     if serial / parallel > bound * 1.05 else ""), flush=True)
            for line in lines:
                print(line, flush=True)
    print(f"\nspeed-up of the scenario time with {args.workers} workers: median {statistics.median(ratios):.2f}x "
          f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x, {len(ratios)} round(s)); results "
          f"{'identical in every round' if identical else 'DIFFERENT (see above)'}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
