"""Workers and shards against the real engine: `crucible run` of a copy of tests/project, as a person runs it.

The same small suite (a failing scenario, an outline, a disruptive one) runs serially, with two workers,
and as two shards merged into one report; every way must give the same scenario -> status map.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crucible.stack import engine, running as stack

ROOT = Path(__file__).resolve().parent.parent
CRUCIBLE = str(Path(sys.executable).parent / "crucible")
PROJECT = f"{os.environ.get('CRUCIBLE_PROJECT') or 'crucible'}-parallel"

FEATURES = {
    "one.feature": """Feature: One
  Scenario: The first sleeper
    Given the stack is up
    When a step takes 0.5 seconds
    Then the service "app" is running

  Scenario: Wrong sums fail
    When a step takes 0.5 seconds
    Then 2 apples are 3 apples
""",
    "two.feature": """Feature: Two
  Scenario Outline: Sleepers with examples
    When a step takes <seconds> seconds
    Then <count> apples are <count> apples

    Examples:
      | seconds | count |
      | 0.5     | 1     |
      | 0.5     | 2     |

  Scenario: The second sleeper
    When a step takes 0.5 seconds
    Then the service "app" is running
""",
    "three.feature": """@disruptive
Feature: Three
  Scenario: The app restarts while nothing else runs
    When the service "app" restarts
    Then the service "app" is running
""",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory, engine_client):
    """A copy of tests/project with the features above; nothing of the project is left on the engine after."""
    folder = tmp_path_factory.mktemp("parallel") / "project"
    shutil.copytree(ROOT / "tests" / "project", folder, ignore=shutil.ignore_patterns("reports", "scratch"))
    for name, text in FEATURES.items():
        (folder / "features" / name).write_text(text)
    yield folder
    stack.reap(engine_client, PROJECT, include_kept=True)
    assert stack.runs(engine_client, PROJECT) == {}


def crucible(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the crucible command in the project folder; its output is kept."""
    full_env = {**os.environ, "CRUCIBLE_PROJECT": PROJECT, **(env or {})}
    return subprocess.run([CRUCIBLE, *args], cwd=folder, env=full_env, text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=600)


def results(folder: Path) -> list[dict]:
    """Every Allure result in a results folder."""
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*-result.json"))]


def outcome(found: list[dict]) -> dict[str, str]:
    """Scenario (full name and example values) -> status; a scenario that appears twice fails the test."""
    seen: dict[str, str] = {}
    for result in found:
        key = result["fullName"] + "".join(f" {p['name']}={p['value']}" for p in result.get("parameters", []))
        assert key not in seen, f"{key} was reported twice"
        seen[key] = result["status"]
    return seen


def history_entries(folder: Path) -> int:
    path = folder / "reports" / "history" / "history.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture(scope="module")
def serial(project):
    """The serial run: the reference every other way must match."""
    run = crucible(project, "run")
    assert run.returncode == 1, run.stdout + run.stderr
    found = outcome(results(project / "reports" / "allure-results"))
    assert len(found) == 7 and list(found.values()).count("failed") == 1, found
    return found


def overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["stop"] and b["start"] < a["stop"]


def test_two_workers_give_the_serial_results_with_the_disruptive_scenario_alone(project, serial):
    run = crucible(project, "run", "--workers", "2")
    assert run.returncode == 1, run.stdout + run.stderr
    found = results(project / "reports" / "allure-results")
    assert outcome(found) == serial
    # progress lines: scenarios done / total, failures so far, elapsed
    assert "[7/7]" in run.stderr and "1 failed" in run.stderr and "elapsed" in run.stderr, run.stderr
    disruptive = [r for r in found if r["fullName"].startswith("Three:")]
    others = [r for r in found if not r["fullName"].startswith("Three:")]
    assert len(disruptive) == 1
    assert not [r["fullName"] for r in others if overlaps(r, disruptive[0])], "a scenario ran beside the disruptive one"
    assert any(overlaps(a, b) for a in others for b in others if a is not b), "no two scenarios ran at once"
    workers = {label["value"] for r in others for label in r["labels"] if label["name"] == "thread"}
    assert workers == {"worker 1", "worker 2"}, workers
    assert (project / "reports" / "allure-report" / "index.html").is_file()


def test_two_shards_merged_make_one_report_with_every_scenario_once(project, serial, tmp_path):
    before = history_entries(project)
    shards = []
    for index in (1, 2):
        run = crucible(project, "run", "--shard", f"{index}/2")
        assert run.returncode in (0, 1), run.stdout + run.stderr
        shards.append(shutil.copytree(project / "reports" / "allure-results", tmp_path / f"shard-{index}"))
    parts = [outcome(results(folder)) for folder in shards]
    assert parts[0] and parts[1] and not set(parts[0]) & set(parts[1]), parts
    assert history_entries(project) == before, "a shard wrote to the history"

    merged = crucible(project, "merge", *map(str, shards))
    assert merged.returncode == 1, merged.stdout + merged.stderr  # the failing scenario fails the merged run
    assert outcome(results(project / "reports" / "allure-results")) == serial
    assert history_entries(project) == before + 1
    assert "7 scenarios: 6 passed, 1 failed" in merged.stderr, merged.stderr
    assert (project / "reports" / "allure-report" / "index.html").is_file()

    again = crucible(project, "merge", str(shards[0]))
    assert again.returncode == 2 and "Shard(s) 2/2 of the 2 are missing" in again.stderr, again.stderr


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers 0: give at least 1"),
    (["--shard", "3/2"], "--shard 3/2: K must be between 1 and N"),
    (["--shard", "0/4"], "--shard 0/4: K must be between 1 and N"),
    (["--shard", "half"], "--shard half: write K/N"),
    (["--shard", "1/2", "--junit"], "--junit: with --workers or --shard, behave runs each scenario as a feature"),
])
def test_bad_worker_and_shard_options_stop_before_anything_starts(project, args, message):
    run = crucible(project, "run", *args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert stack.runs(engine.connect(), PROJECT) == {}


def worker_processes(folder: Path) -> dict[int, str]:
    """Pid -> worker number of the worker processes still running for this project folder."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if "ClaimingRunner" in cmdline and str(folder) in cmdline:
            number = [e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"CRUCIBLE_WORKER=")]
            found[int(proc.name)] = number[0] if number else "?"
    return found


def start_long_run(project: Path, seconds: int, count: int = 2) -> tuple[subprocess.Popen, list[str]]:
    """`crucible run --workers 2` of ``count`` scenarios that each sleep; returns once both workers are in a step."""
    long = project / "long"
    long.mkdir(exist_ok=True)
    (long / "long.feature").write_text("Feature: Long\n" + "".join(
        f"  Scenario: Long {n}\n    When a step takes {seconds} seconds\n" for n in range(1, count + 1)))
    proc = subprocess.Popen([CRUCIBLE, "run", "--workers", "2", "long"], cwd=project, text=True,
                            env={**os.environ, "CRUCIBLE_PROJECT": PROJECT}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if f"Running {count} scenarios" in line:
            break
    deadline = time.monotonic() + 60
    logs = project / "reports" / "workers"
    while "".join(p.read_text() for p in logs.glob("*.log")).count("STEP-RUNNING") < 2:
        assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
        time.sleep(0.2)
    return proc, lines


def test_a_worker_killed_mid_scenario_leaves_that_scenario_broken_and_the_rest_runs(project):
    proc, lines = start_long_run(project, 4)
    victim = next(pid for pid, number in worker_processes(project).items() if number == "1")
    os.kill(victim, signal.SIGKILL)
    lines += proc.stderr.readlines()
    assert proc.wait(timeout=90) == 1, "".join(lines)
    found = {r["fullName"]: r for r in results(project / "reports" / "allure-results")}
    broken = [r for r in found.values() if r["status"] == "broken"]
    assert len(found) == 2 and len(broken) == 1, found
    assert broken[0]["statusDetails"]["message"].startswith("Not finished: worker 1 exited (code -9)")
    assert stack.runs(engine.connect(), PROJECT) == {}


def test_sigterm_to_the_run_stops_every_worker_and_removes_the_stack(project):
    proc, lines = start_long_run(project, 60)
    proc.send_signal(signal.SIGTERM)
    lines += proc.stderr.readlines()
    assert proc.wait(timeout=90) == 130, "".join(lines)
    assert "Interrupted: stopping the workers" in "".join(lines)
    assert worker_processes(project) == {}
    assert stack.runs(engine.connect(), PROJECT) == {}


def test_workers_claim_nothing_more_once_their_coordinator_is_killed(project, engine_client):
    proc, _ = start_long_run(project, 3, count=6)
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 60
    while worker_processes(project):
        assert time.monotonic() < deadline, "workers outlived their coordinator"
        time.sleep(0.5)
    assert len(results(project / "reports" / "allure-results")) == 2  # the two they were running, no more
    assert stack.reap(engine_client, PROJECT), "the dead coordinator's stack is the next run's to remove"
