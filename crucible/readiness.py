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

from crucible.compose import Healthcheck
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
        f"  hint: run `make up` and read the service's logs, or fix its command/entrypoint."
    )


class Cancelled(StartupError):
    """Start-up was stopped (another service failed, or the run was interrupted)."""


def _check_cancel(cancel: Event | None, service: str) -> None:
    """Give up waiting for a service when start-up was stopped."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"stopped waiting for '{service}': start-up was stopped")


class RunningWait:
    """Ready once the container is running (Compose's ``service_started``)."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout

    def describe(self) -> str:
        """What this strategy checks."""
        return "container running"

    def wait_until_ready(self, container: Container, service: str, cancel: Event | None = None) -> float:
        """Wait until the container runs; return the seconds waited."""
        start = time.monotonic()
        pause = pauses()
        while True:
            _check_cancel(cancel, service)
            container.reload()
            waited = time.monotonic() - start
            status = container.status
            if status == "running":
                return waited
            if status in ("exited", "dead"):
                raise _exited(container, service, self.describe(), waited)
            if waited > self.timeout:
                raise StartupError(f"Service '{service}' was not running after {waited:.1f}s "
                                   f"(state: {status}).\n  last log lines:\n{last_logs(container)}")
            time.sleep(next(pause))


class HealthcheckWait:
    """Ready once the service's healthcheck command exits 0 inside the container."""

    def __init__(self, check: Healthcheck, budget: float | None = None):
        self.check = check
        self.budget = budget if budget is not None else check.budget

    def describe(self) -> str:
        """What this strategy checks."""
        return "healthcheck " + " ".join(self.check.command())

    def wait_until_ready(self, container: Container, service: str, cancel: Event | None = None) -> float:
        """Poll the healthcheck until it passes; raise StartupError with its last output on timeout."""
        start = time.monotonic()
        last = "(the check never ran)"
        pause = pauses()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ready-{service}")
        try:
            while True:
                _check_cancel(cancel, service)
                waited = time.monotonic() - start
                container.reload()
                if container.status in ("exited", "dead"):
                    raise _exited(container, service, self.describe(), waited)
                if container.status == "running":
                    code, last = self._probe(pool, container)
                    if code == 0:
                        return time.monotonic() - start
                if waited > self.budget:
                    raise StartupError(
                        f"Service '{service}' did not become ready within {self.budget:.0f}s.\n"
                        f"  check: {self.describe()}\n"
                        f"  container state: {container.status}\n"
                        f"  last check output: {last.strip()[-500:] or '(none)'}\n"
                        f"  last {LOG_LINES} log lines:\n{last_logs(container)}\n"
                        f"  hint: raise the healthcheck's retries/start_period in the compose file "
                        f"if the service is just slow."
                    )
                time.sleep(next(pause))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _probe(self, pool: ThreadPoolExecutor, container: Container) -> tuple[int, str]:
        """Run the check once, bounded by its timeout; return (exit code, output)."""
        future = pool.submit(container.exec_run, self.check.command(), demux=False)
        try:
            result = future.result(timeout=self.check.timeout)
        except FutureTimeout:
            return -1, f"timed out after {self.check.timeout:.0f}s"
        except APIError as exc:
            return -1, str(exc.explanation or exc)
        return result.exit_code, (result.output or b"").decode("utf-8", "replace")


def for_service(healthcheck: Healthcheck | None):
    """The strategy that fits a service: its healthcheck if it has one, else running."""
    return HealthcheckWait(healthcheck) if healthcheck else RunningWait()
