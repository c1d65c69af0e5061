"""Readiness strategies: small objects with one ``wait_until_ready`` method.

An open port proves nothing (the engine's proxy accepts connections before the service
listens), so readiness is the service's own healthcheck command -- a query, an AMQP
handshake, an HTTP health endpoint -- run inside the container, polled tightly.
"""

from __future__ import annotations

import time
from threading import Event
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from docker.errors import APIError, NotFound
from docker.models.containers import Container

from crucible.stack.compose import Healthcheck
from crucible.errors import StartupError

POLL = 0.1  # first pause between checks
POLL_CAP = 0.5  # pauses grow by half each time up to this: each exec'd check costs ~0.1 s of CPU here


def pauses(first: float | None = None, cap: float | None = None):
    """Pauses between checks: short at first, growing to a cap so waiting services do not hog the CPU."""
    pause = POLL if first is None else first
    limit = POLL_CAP if cap is None else cap
    while True:
        yield pause
        pause = min(limit, pause * 1.5)
LOG_LINES = 20


def last_logs(container: Container, lines: int = LOG_LINES) -> str:
    """The container's last log lines, indented, for error messages."""
    try:
        text = container.logs(tail=lines).decode("utf-8", "replace").rstrip()
    except (APIError, NotFound):
        return "    (logs unavailable)"
    return "\n".join("    " + line for line in text.splitlines()) or "    (no output)"


def _exited(container: Container, service: str, check: str, waited: float) -> StartupError:
    """An error for a container that stopped while we waited for it."""
    state = container.attrs.get("State", {})
    return StartupError(
        f"Service '{service}' exited with code {state.get('ExitCode')} after {waited:.1f}s "
        f"while waiting for it to be ready ({check}).\n"
        f"  last {LOG_LINES} log lines:\n{last_logs(container)}\n"
        f"  hint: run `crucible up` and read the service's logs, or fix its command/entrypoint."
    )


class Cancelled(StartupError):
    """Start-up was stopped (another service failed, or the run was interrupted)."""


def _check_cancel(cancel: Event | None, service: str) -> None:
    """Give up waiting for a service when start-up was stopped."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"stopped waiting for '{service}': start-up was stopped")


class _Wait:
    """The polling loop every strategy shares; a strategy says what 'ready' means for a running container."""

    budget = 30.0
    hint = "raise the healthcheck's retries/start_period in the compose file if the service is just slow."

    def describe(self) -> str:
        """What this strategy checks."""
        raise NotImplementedError

    def _passes(self, container: Container) -> bool:
        """True once a running container counts as ready."""
        raise NotImplementedError

    def _last_output(self) -> str:
        """The last check's output, for the timeout message ('' if the strategy runs no check)."""
        return ""

    def _completed(self, container: Container, service: str, waited: float) -> bool:
        """A container that stopped while we waited: True if that counts as ready, else raise why not."""
        raise _exited(container, service, self.describe(), waited)

    def _pauses(self):
        """The pauses between checks."""
        return pauses()

    def wait_until_ready(self, container: Container, service: str, cancel: Event | None = None) -> float:
        """Poll until the service is ready; return the seconds waited, or raise StartupError saying why not."""
        start = time.monotonic()
        pause = self._pauses()
        while True:
            _check_cancel(cancel, service)
            container.reload()
            waited = time.monotonic() - start
            if container.status in ("exited", "dead"):
                if self._completed(container, service, waited):
                    return waited
            checked = time.monotonic()
            if container.status == "running" and self._passes(container):
                return time.monotonic() - start
            cost = time.monotonic() - checked
            if waited > self.budget:
                raise StartupError(
                    f"Service '{service}' did not become ready within {self.budget:.0f}s.\n"
                    f"  check: {self.describe()}\n"
                    f"  container state: {container.status}{_restarts(container)}\n"
                    f"{self._last_output()}"
                    f"  last {LOG_LINES} log lines:\n{last_logs(container)}\n"
                    f"  hint: {self.hint}"
                )
            # A heavy check (an Erlang CLI takes a second of CPU) runs at most half the time, or it starves
            # the very service it waits for on a small machine.
            time.sleep(max(next(pause), cost))


class RunningWait(_Wait):
    """Ready once the container is running (Compose's ``service_started``)."""

    def __init__(self, timeout: float = 30.0):
        self.budget = timeout

    def describe(self) -> str:
        """What this strategy checks."""
        return "container running"

    def _passes(self, container: Container) -> bool:
        """A running container is ready."""
        return True

    def _completed(self, container: Container, service: str, waited: float) -> bool:
        """A container that already finished with exit code 0 did its job; any other exit is an error."""
        if container.attrs.get("State", {}).get("ExitCode") == 0:
            return True
        raise _exited(container, service, self.describe(), waited)


class CompletionWait(_Wait):
    """Ready once a one-shot service (a migration, a seed job) exited with code 0."""

    hint = "the job is still running: make it finish sooner, or look at its logs with `crucible up`."

    def __init__(self, timeout: float = 600.0, waiting: tuple[str, ...] = ()):
        self.budget = timeout
        self.waiting = waiting

    def describe(self) -> str:
        """What this strategy checks."""
        return "the job exits with code 0"

    def _passes(self, container: Container) -> bool:
        """Running is not done."""
        return False

    def _completed(self, container: Container, service: str, waited: float) -> bool:
        """Exit code 0 is done; any other stops start-up, naming the job, its exit code and its last log lines."""
        code = container.attrs.get("State", {}).get("ExitCode")
        if code == 0:
            return True
        waiting = f"; {', '.join(self.waiting)} waited for it and were not started" if self.waiting else ""
        raise StartupError(
            f"One-shot service '{service}' exited with code {code} after {waited:.1f}s{waiting}.\n"
            f"  last {LOG_LINES} log lines:\n{last_logs(container)}\n"
            f"  hint: services that depend on it with `condition: service_completed_successfully` start only "
            f"after it exits with code 0; fix the job (its command, or what it needs)."
        )


class HealthcheckWait(_Wait):
    """Ready once the service's healthcheck command exits 0 inside the container."""

    def __init__(self, check: Healthcheck, budget: float | None = None):
        self.check = check
        self.budget = budget if budget is not None else check.budget
        self.last = "(the check never ran)"

    def _pauses(self):
        """Checks at least as often as the healthcheck's start_interval asks."""
        cap = self.check.start_interval
        return pauses(min(POLL, cap) if cap else None, min(POLL_CAP, cap) if cap else None)

    def describe(self) -> str:
        """What this strategy checks."""
        return "healthcheck " + " ".join(self.check.command())

    def _last_output(self) -> str:
        """The last check's output, for the timeout message."""
        return f"  last check output: {self.last.strip()[-500:] or '(none)'}\n"

    def _passes(self, container: Container) -> bool:
        """Run the check once, bounded by its timeout (a hung exec is abandoned, not waited for)."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ready")
        future = pool.submit(container.exec_run, self.check.command(), demux=False)
        pool.shutdown(wait=False)
        try:
            result = future.result(timeout=self.check.timeout)
        except FutureTimeout:
            self.last = f"timed out after {self.check.timeout:.0f}s"
            return False
        except APIError as exc:
            self.last = str(exc.explanation or exc)
            return False
        self.last = (result.output or b"").decode("utf-8", "replace")
        return result.exit_code == 0


def for_service(healthcheck: Healthcheck | None):
    """The strategy that fits a service: its healthcheck if it has one, else running."""
    return HealthcheckWait(healthcheck) if healthcheck else RunningWait()


def _restarts(container: Container) -> str:
    """How often the engine restarted the container (its restart policy), for the timeout message."""
    count = container.attrs.get("RestartCount") or 0
    code = container.attrs.get("State", {}).get("ExitCode")
    return f" (restarted {count} times by its restart policy; last exit code {code})" if count else ""


def expect_running(stack, services: list[str]) -> None:
    """Fail (AssertionError) unless each service's container runs and its healthcheck, if any, passes now."""
    problems = []
    for name in services:
        state = stack.state(name)
        if state == "exited" and name in stack.project.jobs() and stack.exit_code(name) == 0:
            continue  # a one-shot job that did its work
        if state != "running":
            problems.append(f"'{name}' is {state}")
            continue
        check = stack.running[name].service.healthcheck
        wait = HealthcheckWait(check) if check else None
        if wait is not None and not wait._passes(stack.running[name].container):
            problems.append(f"'{name}' runs but its healthcheck fails: {wait.last.strip()[-200:] or '(no output)'}")
    assert not problems, "expected every named service to be running, but " + "; ".join(problems)
