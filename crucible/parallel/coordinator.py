"""A run with workers: one stack, N behave processes claiming the plan's items, progress on the console.

The coordinator brings the stack up once (or attaches to a kept one), writes the plan to a claims
board, starts the workers (``-D attach=<run id>``, Crucible's claiming runner) and prints a line for
every finished item. Disruptive items run last, one at a time, once everything else has finished.
All workers write into the one results folder; a worker that dies leaves its item marked broken.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from crucible import settings, signals
from crucible.parallel import claims, plan
from crucible.parallel.claims import Board
from crucible.parallel.plan import Item
from crucible.parallel.progress import Progress, clock
from crucible.report import results as report
from crucible.settings import Settings
from crucible.stack import session
from crucible.timings import Timings

log = logging.getLogger("crucible.workers")

RUNNER = "crucible.parallel.runner:ClaimingRunner"
POLL_S = 0.25
HEARTBEAT_S = 30.0
STOP_WAIT_S = 60.0
RUN_TIMEOUT_S = 6 * 3600


def logs_folder(options: Settings) -> Path:
    """Where each worker's console output goes: ``reports/workers/worker-N.log`` beside the results."""
    return options.path("report.results").parent / "workers"


def worker_command(behave: list[str]) -> list[str]:
    """behave's command line with Crucible's claiming runner."""
    return [*behave[:3], "--runner", RUNNER, *behave[3:]]


class Workers:
    """N behave worker processes on one board, watched until they have all ended."""

    def __init__(self, options: Settings, behave: list[str], board: Board, count: int, timed: bool = False):
        self.options = options
        self.board = board
        self.items = board.items
        self.progress = Progress(self.items, timed)
        self.processes: dict[str, subprocess.Popen] = {}
        self.outputs = ExitStack()
        folder = logs_folder(options)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("worker-*.log"):
            old.unlink()
        for number in range(1, count + 1):
            name = str(number)
            env = {**settings.child_env(options), claims.ENV: str(board.folder), claims.WORKER_ENV: name}
            out = None if count == 1 else self.outputs.enter_context(open(folder / f"worker-{name}.log", "w"))
            self.processes[name] = subprocess.Popen(worker_command(behave), cwd=options.root, env=env,
                                                    stdin=subprocess.DEVNULL, stdout=out,
                                                    stderr=subprocess.STDOUT if out else None)
        self.lost: dict[int, str] = {}
        self.ended: set[str] = set()

    def log_of(self, worker: str) -> str:
        """Where a worker's output is, for messages."""
        if len(self.processes) == 1:
            return "the output above"
        return str(logs_folder(self.options) / f"worker-{worker}.log")

    def watch(self) -> None:
        """Print each finished item until every worker has ended; mark items of a dead worker as lost."""
        self.progress.started = quiet_since = time.monotonic()
        while True:
            running = [name for name, proc in self.processes.items() if proc.poll() is None]
            if self._report_new():
                quiet_since = time.monotonic()
            for name in set(self.processes) - set(running) - self.ended:
                self._ended(name)
            if not running:
                self._report_new()
                return
            if time.monotonic() - quiet_since > HEARTBEAT_S:
                self._heartbeat()
                quiet_since = time.monotonic()
            if self.progress.elapsed > RUN_TIMEOUT_S:
                raise KeyboardInterrupt(f"the run took longer than {RUN_TIMEOUT_S}s")
            time.sleep(POLL_S)

    def _report_new(self) -> bool:
        """Print a line for each item that finished since the last look; True if there was one."""
        finished = self.board.done()
        new = sorted(set(finished) - set(self.progress.finished))
        for index in new:
            done = finished[index]
            line = self.progress.record(done)
            if line is None:
                continue
            if done.status in ("passed", "skipped"):
                log.info("%s", line)
            else:
                log.error("%s; see %s", line, self.log_of(done.worker))
        return bool(new)

    def _ended(self, name: str) -> None:
        """A worker has exited: whatever it claimed and did not finish is lost."""
        self.ended.add(name)
        code = self.processes[name].returncode
        done = self.board.done()
        for index, owner in self.board.claimed_by().items():
            if owner == name and index not in done:
                self.lost[index] = f"worker {name} exited (code {code}) before it finished"
                self.board.finish(index, "lost", 0.0, name)
        if code not in (0, 1):
            log.error("Worker %s exited with code %s; see %s", name, code, self.log_of(name))

    def _heartbeat(self) -> None:
        """Say what is still running when nothing has finished for a while."""
        done = self.board.done()
        busy = [f"{self.items[i].name} (worker {w})" for i, w in sorted(self.board.claimed_by().items())
                if i not in done]
        log.info("still running after %s: %s", clock(self.progress.elapsed), "; ".join(busy) or "(starting up)")

    def stop(self) -> None:
        """Ask every worker to finish now (Ctrl-C, SIGTERM): no new claims, SIGINT, then kill after a bound."""
        self.board.stop()
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_WAIT_S
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def unrun(self) -> list[int]:
        """Items nobody claimed (every worker stopped early)."""
        claimed = self.board.claimed_by()
        return [index for index in range(len(self.items)) if index not in claimed]

    def verdict(self) -> int:
        """0 when every worker passed and every item finished; 1 otherwise."""
        codes = {name: proc.returncode for name, proc in self.processes.items()}
        return 1 if any(codes.values()) or self.lost or self.unrun() else 0

    def close(self) -> None:
        self.outputs.close()


def run(options: Settings, behave: list[str], items: list[Item], count: int,
        environment: dict[str, str] | None = None, timed: bool = False) -> int:
    """Bring the stack up once, run ``items`` with ``count`` workers against it, take it down; the exit code.

    The workers start first: they load steps and parse features while the stack comes up, then wait
    for its run id on the board.
    """
    results = options.path("report.results")
    timings = Timings()
    signals.install()
    project = session.load_project(options)
    with tempfile.TemporaryDirectory(prefix="crucible-claims-") as folder:
        board = Board.create(Path(folder), items)
        workers = Workers(options, behave, board, count, timed)
        try:
            _, _, stack, owned = session.open_stack(project, options["run.attach"], options["run.refresh"], timings)
        except BaseException:
            workers.stop()
            workers.close()
            raise
        try:
            board.ready(stack.run_id)
            log.info("Running %d scenarios with %d worker%s against run %s", plan.scenarios(items), count,
                     "s" if count > 1 else "", stack.run_id)
            with timings.phase("scenarios"):
                try:
                    workers.watch()
                except KeyboardInterrupt:
                    log.error("Interrupted: stopping the workers ...")
                    workers.stop()
                    raise
                finally:
                    workers.close()
            _report_unfinished(results, items, workers)
            status = workers.verdict()
        finally:
            session.close_stack(stack, owned, timings)
            log.info(timings.summary())
    add_environment(results, {"run.workers": str(count), **(environment or {})})
    return status


def _report_unfinished(results: Path, items: list[Item], workers: Workers) -> None:
    """Write a broken result for each item that a worker lost or nobody ran, and say so on the console."""
    unrun = {index: "no worker ran it (every worker stopped early; see their output)" for index in workers.unrun()}
    if workers.board.stopped and unrun:
        log.warning("%d item(s) were not run: the run was stopped early", len(unrun))
        unrun = {}
    for index, why in {**workers.lost, **unrun}.items():
        item = items[index]
        log.error("%s (%s): %s", item.name, item.key, why)
        report.write_unfinished(results, item.name, item.key, f"Not finished: {why}.")


def add_environment(results: Path, extra: dict[str, str]) -> None:
    """Add entries to the results' environment.properties (written by the workers' fixtures)."""
    environment = report.read_environment(results) if results.is_dir() else {}
    report.write_environment(results, {**environment, **extra})
