"""Flakiness: rerun the suite against one stack and list scenarios whose outcome changed; opt-in retry."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from behave.model import ScenarioOutline

from crucible import settings, signals
from crucible.settings import Settings
from crucible.stack import session
from crucible.errors import CrucibleError
from crucible.timings import Timings

log = logging.getLogger(__name__)

RUN_TIMEOUT_S = 1800


def outcomes(report: Path) -> dict[str, str]:
    """Scenario (file:line name) -> status from one behave JSON report."""
    found = {}
    for feature in json.loads(report.read_text() or "[]"):
        for element in feature.get("elements", []):
            if element.get("type") == "scenario":
                found[f"{element['location']} {element['name']}"] = element.get("status", "untested")
    return found


def changed(runs: list[dict[str, str]]) -> dict[str, list[str]]:
    """Scenarios whose status was not the same in every run, with the status of each run."""
    seen: dict[str, list[str]] = defaultdict(list)
    for run in runs:
        for name in set().union(*runs):
            seen[name].append(run.get(name, "missing"))
    return {name: statuses for name, statuses in sorted(seen.items()) if len(set(statuses)) > 1}


def rerun(times: int, behave_args: list[str], options: Settings) -> int:
    """Bring the stack up once, run behave ``times`` times against it, report changed outcomes."""
    if times < 2:
        raise CrucibleError(f"--runs must be at least 2 to compare outcomes (got {times})")
    timings = Timings()
    project = session.load_project(options)
    client, _ = session.prepare(project, timings)
    stack = session.start(client, project, timings)
    runs: list[dict[str, str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="crucible-flaky-") as tmp:
            for attempt in range(1, times + 1):
                report = Path(tmp) / f"run-{attempt}.json"
                cmd = [sys.executable, "-m", "behave", "-D", f"attach={stack.run_id}"]
                cmd += ["-f", "json", "-o", str(report), "-f", "progress", "--no-summary", *behave_args]
                cmd += [] if any(not a.startswith("-") and Path(a).exists() for a in behave_args) else [
                    str(options.path("features"))]
                log.info("Run %d of %d: %s", attempt, times, " ".join(cmd[2:]))
                result = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT_S, cwd=options.root,
                                        env={**settings.child_env(options), "CRUCIBLE_RUN_ATTACH": stack.run_id})
                if not report.exists():
                    raise CrucibleError(f"behave run {attempt} wrote no report (exit {result.returncode})")
                runs.append(outcomes(report))
                counts = defaultdict(int)
                for status in runs[-1].values():
                    counts[status] += 1
                log.info("Run %d: %s", attempt, ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    finally:
        with signals.held():
            stack.down()
    flips = changed(runs)
    total = len({name for run in runs for name, status in run.items() if status != "skipped"})
    if not flips:
        log.info("No flaky scenario: the %d scenarios that ran had the same outcome in all %d runs", total, times)
        return 0
    log.error("%d of %d scenarios changed outcome across %d runs:", len(flips), total, times)
    for name, statuses in flips.items():
        log.error("  %s: %s", name, " -> ".join(statuses))
    return 1


def enable_retry(feature, attempts: int = 2) -> None:
    """Retry each failed scenario of a feature up to ``attempts`` times; mark those passing late as flaky."""
    for scenario in feature.walk_scenarios():
        if isinstance(scenario, ScenarioOutline):
            continue
        scenario.run = functools.partial(_run_with_retry, scenario, scenario.run, attempts)


def _run_with_retry(scenario, run, attempts: int, *args, **kwargs) -> bool:
    """Run a scenario; if it failed, run it again (up to ``attempts``); return True if it failed in the end."""
    for attempt in range(1, attempts + 1):
        scenario.crucible_attempt = attempt
        failed = run(*args, **kwargs)
        if not failed:
            if attempt > 1:
                log.warning("FLAKY: '%s' passed only on attempt %d of %d", scenario.name, attempt, attempts)
            return False
        if attempt < attempts:
            log.warning("RETRY: '%s' failed on attempt %d; running it again", scenario.name, attempt)
    return True
