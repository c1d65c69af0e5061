"""Leak-proof, never hangs, exact messages: whole behave runs of tests/project against the real engine.

Each test starts behave as a separate process (as a person would), interrupts or breaks it at a
chosen moment, and then checks that no container, network or volume of the project remains.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import json
import uuid
from pathlib import Path

import pytest
from forwarder import Forwarder

from crucible.stack import engine, running as stack

pytestmark = pytest.mark.usefixtures("engine_lock")
ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIR = ROOT / "tests" / "project"
PROJECT = "crucible-reliability"
BEHAVE = [sys.executable, "-m", "behave"]
# The test project's name is fixed (its compose file's), whatever project the caller's environment names.
BASE_ENV = {**{k: v for k, v in os.environ.items() if k != "CRUCIBLE_PROJECT"}, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def client():
    try:
        client = engine.connect(timeout=10)
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine here
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {exc}")
    yield client
    stack.reap(client, PROJECT, include_kept=True)


def leftovers(client) -> list[str]:
    """Every container, network and volume of the test project still on the engine."""
    filters = {"label": f"{stack.LABEL_PROJECT}={PROJECT}"}
    return ([f"container {c.name}" for c in client.containers.list(all=True, filters=filters)]
            + [f"network {n.name}" for n in client.networks.list(filters=filters)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=filters)])


class Run:
    """One behave process of the test project, its output collected line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        full_env = {**BASE_ENV, **(env or {})}
        self.lines: list[str] = []
        self.proc = subprocess.Popen(BEHAVE + list(args), cwd=PROJECT_DIR, env=full_env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, marker: str, timeout: float = 60) -> None:
        """Wait until a line containing ``marker`` was printed."""
        deadline = time.monotonic() + timeout
        while not any(marker in line for line in self.lines):
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError(f"behave ended before printing {marker!r}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} not printed within {timeout}s:\n{self.output}")
            time.sleep(0.05)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 90) -> int:
        """Wait for the process to end (bounded); return its exit code."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"behave did not end within {timeout}s:\n{self.output}") from None
        self.reader.join(timeout=5)
        return code


def feature(tmp_name: str, text: str) -> str:
    """Write a feature file into the test project's scratch folder; return its path relative to the project."""
    folder = PROJECT_DIR / "scratch"
    folder.mkdir(exist_ok=True)
    (folder / f"{tmp_name}.feature").write_text(text)
    return f"scratch/{tmp_name}.feature"


@pytest.fixture(autouse=True)
def scratch_cleanup():
    yield
    for path in (PROJECT_DIR / "scratch").glob("*.feature"):
        path.unlink()


LONG_STEP = """Feature: Long
  Scenario: A long step
    Given the stack is up
    When a step takes {seconds} seconds
    Then the service "app" is running
"""


def test_a_normal_run_passes_and_leaves_nothing(client):
    run = Run()
    assert run.finish() == 0, run.output
    assert "1 scenario passed" in run.output
    assert leftovers(client) == []


def test_a_run_with_a_failure_fails_and_leaves_nothing(client):
    path = feature("failing", "Feature: F\n  Scenario: Wrong sums\n    Then 2 apples are 3 apples\n")
    run = Run(path)
    assert run.finish() != 0
    assert "expected 2 apples to be 3 apples" in run.output
    assert leftovers(client) == []


@pytest.mark.parametrize("marker, sig", [
    ("Starting stack", signal.SIGINT),
    ("STEP-RUNNING", signal.SIGINT),
    ("STEP-RUNNING", signal.SIGTERM),
])
def test_interrupts_remove_the_stack(client, marker, sig):
    run = Run(feature("long", LONG_STEP.format(seconds=30)))
    run.wait_for(marker)
    run.signal(sig)
    assert run.finish(timeout=60) != 0
    assert leftovers(client) == [], run.output


def test_repeated_ctrl_c_during_teardown_cannot_cut_it_short(client):
    run = Run(feature("short", LONG_STEP.format(seconds=0)))
    run.wait_for("Removing the stack of run")
    for _ in range(3):
        run.signal(signal.SIGINT)
        time.sleep(0.05)
    run.finish(timeout=60)
    assert leftovers(client) == [], run.output


def test_ctrl_c_during_an_image_build_leaves_nothing(client):
    bust = uuid.uuid4().hex
    run = Run("-D", "compose=compose-build.yaml", env={"CRUCIBLE_TEST_BUST": bust})
    run.wait_for("RUN echo", timeout=60)
    time.sleep(1)
    run.signal(signal.SIGINT)
    assert run.finish(timeout=60) != 0

    def build_containers():
        return [c for c in client.containers.list(all=True)
                if f"BUST={bust}" in (c.attrs["Config"].get("Env") or [])]

    deadline = time.monotonic() + 30
    while build_containers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert build_containers() == []
    assert leftovers(client) == []


@pytest.mark.parametrize("hook", ["before_all", "before_scenario", "after_scenario"])
def test_an_exception_in_a_hook_fails_the_run_and_leaves_nothing(client, hook):
    run = Run("-D", f"fail_in={hook}")
    assert run.finish() != 0
    assert f"deliberate failure in {hook}" in run.output
    assert leftovers(client) == []


def test_after_kill_9_the_next_run_reaps_only_dead_owners(client):
    victim = Run(feature("long", LONG_STEP.format(seconds=60)))
    victim.wait_for("STEP-RUNNING")
    victim_run = set(stack.runs(client, PROJECT))
    alive = Run(feature("alive", LONG_STEP.format(seconds=15)))
    alive.wait_for("STEP-RUNNING")
    alive_run = set(stack.runs(client, PROJECT)) - victim_run
    assert len(victim_run) == len(alive_run) == 1

    victim.proc.kill()
    victim.finish()
    assert set(stack.runs(client, PROJECT)) == victim_run | alive_run, "kill -9 leaves the run behind"

    second = Run(feature("short", LONG_STEP.format(seconds=0)))
    assert second.finish() == 0, second.output
    assert f"Removing run {next(iter(victim_run))}" in second.output
    assert set(stack.runs(client, PROJECT)) == alive_run, "a live run's stack must be left alone"
    assert alive.finish() == 0, alive.output
    assert leftovers(client) == []


def test_a_host_port_the_file_fixes_and_another_process_holds_is_moved_and_said_once(client):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = Run(env={"CRUCIBLE_TEST_PORT": f"127.0.0.1:{port}:8000"})
        assert run.finish() == 0, run.output
    moved = [line for line in run.lines if "moved to random" in line]
    assert len(moved) == 1 and f"1 published port moved to random loopback ports: app {port}->127.0.0.1:" in moved[0]
    assert leftovers(client) == []


def test_an_unknown_service_name_is_an_environment_error_listing_the_services(client):
    path = feature("ghost", 'Feature: G\n  Scenario: Ghost\n    Then the service "ghost" has a URL\n')
    run = Run(path)
    assert run.finish() != 0
    assert "There is no running service 'ghost'" in run.output
    assert "running: app, store" in run.output
    assert leftovers(client) == []


def test_invalid_gherkin_names_file_and_line_and_starts_nothing(client):
    path = feature("broken", "Feature: B\n  Scenario: S\n    Given the stack is up\n  Oops this is not gherkin\n")
    run = Run(path)
    assert run.finish() != 0
    assert "broken.feature" in run.output and "line 4" in run.output
    assert "Starting stack" not in run.output
    assert leftovers(client) == []


def test_losing_the_engine_mid_run_is_an_environment_error_in_one_paragraph(client, tmp_path):
    proxy = Forwarder()
    results = tmp_path / "results"
    run = Run(feature("long", LONG_STEP.format(seconds=3)), "-f", "allure_behave.formatter:AllureFormatter",
              "-o", str(results), "-f", "plain",
              env={"DOCKER_HOST": proxy.url})
    run.wait_for("STEP-RUNNING")
    # What an engine stop does: its containers die and its API stops answering.
    for container in client.containers.list(filters={"label": f"{stack.LABEL_PROJECT}={PROJECT}"}):
        container.kill()
    proxy.cut()
    assert run.finish() != 0
    assert "The Docker engine stopped answering" in run.output
    assert run.output.count("Traceback") <= 1, run.output
    statuses = [json.loads(p.read_text())["status"] for p in results.glob("*-result.json")]
    assert statuses == ["broken"]
    stack.reap(client, PROJECT)
    assert leftovers(client) == []


FLIP_FLOP = """Feature: Flip-flop
  Scenario: A flaky scenario
    Given the stack is up
    Then the flip-flop in "{path}" is up
"""


def test_the_rerun_command_lists_scenarios_whose_outcome_changed(client, tmp_path):
    path = feature("flip", FLIP_FLOP.format(path=tmp_path / "state"))
    stable = feature("stable", LONG_STEP.format(seconds=0))
    result = subprocess.run(
        [sys.executable, "-m", "crucible", "flaky", "--runs", "2", path, stable],
        cwd=PROJECT_DIR, env=BASE_ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "1 of 2 scenarios changed outcome across 2 runs" in result.stderr
    assert "A flaky scenario: passed -> failed" in result.stderr
    assert "A long step" not in result.stderr.split("changed outcome")[1]
    assert leftovers(client) == []


def test_opt_in_retry_marks_a_late_pass_as_flaky(client, tmp_path):
    path = feature("flip", FLIP_FLOP.format(path=tmp_path / "state"))
    (tmp_path / "state").write_text("up")  # so the first attempt finds it down
    results = tmp_path / "results"
    retried = Run(path, "-D", "retry=1", "-f", "crucible.report.formatter:CrucibleFormatter", "-o", str(results),
                  "-f", "plain")
    assert retried.finish() == 0, retried.output
    assert "FLAKY: 'A flaky scenario' passed only on attempt 2 of 2" in retried.output
    attempts = sorted((json.loads(p.read_text()) for p in results.glob("*-result.json")), key=lambda r: r["start"])
    assert [r["status"] for r in attempts] == ["failed", "passed"]
    assert attempts[1]["statusDetails"]["flaky"] is True
    assert leftovers(client) == []
