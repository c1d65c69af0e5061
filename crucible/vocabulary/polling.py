"""Eventually and throughout: repeat a probe and a check until the check passes or a bound runs out, or for as long
as a check must keep passing.

Used by the "within N seconds" and "for N seconds" steps. The probe fetches a value (an HTTP response, query rows,
received messages); the check raises ``AssertionError`` while the value is not yet right. When
the bound runs out, the failure leads with the last failure's first line (what differs), then
says how long and how often it tried, and the last value seen.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from crucible.errors import TestDataError

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_INTERVAL = 0.2
MAX_TIMEOUT = 300.0


def eventually(probe: Callable[[], T], check: Callable[[T], None], timeout: float, *,
               interval: float = DEFAULT_INTERVAL, describe: Callable[[T], str] = repr,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Return the first probed value that passes ``check`` within ``timeout`` seconds.

    Example::

        response = eventually(lambda: client.get("/stock/north/mug"),
                              lambda r: assert_that(r.status_code, equal_to(200)), timeout=5)
    """
    _check_bound(timeout)
    deadline = clock() + timeout
    attempts = 0
    while True:
        attempts += 1
        value = probe()
        try:
            check(value)
            log.debug("expectation held after %d attempt(s)", attempts)
            return value
        except AssertionError as failure:
            remaining = deadline - clock()
            if remaining <= 0:
                raise _gave_up(failure, f"Still not true after {timeout:g} seconds ({attempts} attempts).",
                               f"Last value seen: {describe(value)}") from None
        sleep(min(interval, remaining))


def throughout(probe: Callable[[], T], check: Callable[[T], None], duration: float, *,
               interval: float = DEFAULT_INTERVAL, describe: Callable[[T], str] = repr,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Check every probed value for ``duration`` seconds; the first value that fails ``check`` fails it all.

    Example::

        throughout(lambda: client.get("/stock/north/mug"),
                   lambda r: assert_that(r.json()["quantity"], equal_to(3)), duration=2)
    """
    _check_bound(duration)
    started = clock()
    attempts = 0
    while True:
        attempts += 1
        value = probe()
        try:
            check(value)
        except AssertionError as failure:
            raise _gave_up(failure, f"It stopped being true after {clock() - started:.1f} of {duration:g} seconds "
                                    f"(check {attempts}).", f"Value seen: {describe(value)}") from None
        remaining = started + duration - clock()
        if remaining <= 0:
            log.debug("expectation held for %g seconds (%d checks)", duration, attempts)
            return value
        sleep(min(interval, remaining))


def _check_bound(seconds: float) -> None:
    """A TestDataError for a wait that is not more than 0 and at most MAX_TIMEOUT seconds."""
    if not 0 < seconds <= MAX_TIMEOUT:
        raise TestDataError(f"A wait must last more than 0 and at most {MAX_TIMEOUT:.0f} seconds, not {seconds}")


def _gave_up(failure: AssertionError, how_long: str, value_seen: str) -> AssertionError:
    """The check's failure: its first line (what differs), how long and how often it was tried, its other lines,
    and the value seen."""
    headline, _, details = str(failure).strip().partition("\n")
    return AssertionError(f"{headline}\n{how_long}" + (f"\n{details}" if details else "") + f"\n{value_seen}")
