"""One run of the suite (or the scenarios some tags choose) against a stack of given images, and its outcomes.

The stack is started here (each service's image as the variant says, the others as built), behave
runs in a child process attached to it, writing its Allure results into a folder of the run's own,
and the stack is removed afterwards whatever happened. The outcome of each scenario is read back
from those results: its status and the first line of its failure message.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker

from crucible import settings, signals
from crucible.errors import CrucibleError
from crucible.report import results as allure_results
from crucible.settings import Settings
from crucible.stack import session
from crucible.stack.compose import Project
from crucible.timings import Timings

log = logging.getLogger(__name__)

FORMATTER = "crucible.report.formatter:CrucibleFormatter"
FAILING = ("failed", "broken")


@dataclass(frozen=True)
class Outcome:
    """How one scenario ended in one run: its status and the first line of its failure message."""

    scenario: str
    status: str
    message: str = ""

    @property
    def failing(self) -> bool:
        """True if the scenario failed or broke."""
        return self.status in FAILING


@dataclass
class SuiteRun:
    """What one run of the suite gave: each scenario's outcome, or why the run itself could not finish."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    timed_out: bool = False
    log_file: Path | None = None

    def failing(self) -> list[Outcome]:
        """The scenarios that failed or broke, in name order."""
        return [outcome for _, outcome in sorted(self.outcomes.items()) if outcome.failing]


def scenario_name(result: dict) -> str:
    """'Feature: Scenario' of an Allure result (with its example's parameters, for a Scenario Outline)."""
    name = result.get("fullName") or result.get("name") or "(unnamed)"
    parameters = result.get("parameters") or []
    if parameters:
        name += " [" + ", ".join(f"{p.get('name')}={p.get('value')}" for p in parameters) + "]"
    return name


def first_line(message: str | None) -> str:
    """The first non-empty line of a failure message (and the next one when the first ends in a colon, as in
    "Contract violation: ... does not allow:")."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1].lstrip('- ')}"
    return lines[0] if lines else ""


def read_outcomes(results: Path) -> dict[str, Outcome]:
    """Each scenario's outcome from a folder of Allure results (the newest result of each scenario that ran)."""
    outcomes = {}
    for result in allure_results.load_results(results):
        if result.get("status") in (None, "skipped") or "fullName" not in result and "name" not in result:
            continue  # a scenario the tags did not choose is reported as skipped
        name = scenario_name(result)
        details = result.get("statusDetails") or {}
        outcomes[name] = Outcome(name, str(result.get("status")), first_line(details.get("message")))
    return outcomes


def behave_command(options: Settings, tags: str | None, run_id: str, images: dict[str, str],
                   results: Path) -> list[str]:
    """behave attached to run ``run_id``, writing Allure results into ``results``, choosing ``tags``."""
    from crucible.cli import configured_results  # the project's behave.ini decides who adds the formatter

    command = [sys.executable, "-m", "behave", "-D", f"attach={run_id}", "-D", f"report.results={results}"]
    for service, image in sorted(images.items()):
        command += ["-D", f"services.{service}.image={image}"]
    if configured_results(options.root) is None:
        command += ["--format", FORMATTER, "--outfile", str(results)]
    command += ["--format", "progress", "--no-summary", "--logging-level", "WARNING"]  # the matrix is the count
    if tags:
        command.append(f"--tags={tags}")
    return command + [str(options.path("features"))]


def run(client: docker.DockerClient, project: Project, options: Settings, workdir: Path, *, tags: str | None,
        images: dict[str, str] | None = None, timeout: float) -> SuiteRun:
    """Start a stack (with ``images`` in place of some services' own), run the suite against it, remove it."""
    images = images or {}
    workdir.mkdir(parents=True, exist_ok=True)
    results = workdir / "allure-results"
    outcome = SuiteRun(log_file=workdir / "behave.log")
    started = time.monotonic()
    try:
        stack = session.start(client, session.with_images(project, images), Timings())
    except CrucibleError as exc:
        outcome.error = f"the stack did not start: {exc}"
        outcome.seconds = time.monotonic() - started
        return outcome
    try:
        command = behave_command(options, tags, stack.run_id, images, results)
        env = {**settings.child_env(options), "CRUCIBLE_RUN_ATTACH": stack.run_id}
        with open(outcome.log_file, "w", encoding="utf-8") as output:
            try:
                subprocess.run(command, cwd=options.root, stdin=subprocess.DEVNULL, stdout=output,
                               stderr=subprocess.STDOUT, env=env, timeout=timeout, start_new_session=True)
            except subprocess.TimeoutExpired:
                outcome.timed_out = True
                outcome.error = f"the suite did not finish within {timeout:.0f} s"
    finally:
        with signals.held():
            stack.down()
    outcome.seconds = time.monotonic() - started
    if results.is_dir():
        outcome.outcomes = read_outcomes(results)
    if not outcome.outcomes and outcome.error is None:
        outcome.error = f"the suite wrote no results; its output is in {outcome.log_file}:\n{_tail(outcome.log_file)}"
    return outcome


def _tail(path: Path, lines: int = 15) -> str:
    """The last lines of a file, indented."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])

