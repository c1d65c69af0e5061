"""eventually(): bounded retries, the first passing value, and a failure that shows the last value;
throughout(): a check that must hold on every value for a while."""

import pytest

from crucible import errors
from crucible.vocabulary.polling import eventually, throughout


class FakeClock:
    """A clock that moves only when the poller sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def must_be(expected):
    def check(value):
        assert value == expected, f"expected {expected} but got {value}"
    return check


def test_returns_the_first_value_that_passes():
    clock = FakeClock()
    values = iter([1, 2, 3, 4])
    assert eventually(lambda: next(values), must_be(3), 5, sleep=clock.sleep, clock=clock) == 3
    assert clock.sleeps == [0.2, 0.2]


def test_passing_at_once_does_not_sleep():
    clock = FakeClock()
    assert eventually(lambda: "ok", must_be("ok"), 1, sleep=clock.sleep, clock=clock) == "ok"
    assert clock.sleeps == []


def test_gives_up_at_the_bound_leading_with_the_last_failure_then_the_bound_and_the_last_value():
    clock = FakeClock()
    counter = iter(range(100))
    with pytest.raises(AssertionError) as raised:
        eventually(lambda: next(counter), must_be(-1), 1, sleep=clock.sleep, clock=clock,
                   describe=lambda v: f"<{v}>")
    message = str(raised.value)
    assert message.startswith("expected -1 but got 5\nStill not true after 1 seconds (6 attempts).")
    assert message.endswith("Last value seen: <5>")
    assert clock.now == pytest.approx(1.0)


def test_the_last_attempt_is_made_at_the_deadline():
    clock = FakeClock()
    seen = []

    def probe():
        seen.append(clock.now)
        return clock.now

    with pytest.raises(AssertionError):
        eventually(probe, must_be(-1), 0.5, interval=0.2, sleep=clock.sleep, clock=clock)
    assert seen == pytest.approx([0.0, 0.2, 0.4, 0.5])


def test_other_errors_are_not_retried():
    def probe():
        raise errors.HttpError("connection refused")
    with pytest.raises(errors.HttpError):
        eventually(probe, must_be(1), 5)


@pytest.mark.parametrize("timeout", [0, -1, 301])
def test_the_bound_must_be_sensible(timeout):
    with pytest.raises(errors.TestDataError, match="A wait must last"):
        eventually(lambda: 1, must_be(1), timeout)


def test_throughout_checks_every_value_until_the_time_is_up():
    clock = FakeClock()
    seen = []

    def probe():
        seen.append(clock.now)
        return 3

    assert throughout(probe, must_be(3), 0.5, interval=0.2, sleep=clock.sleep, clock=clock) == 3
    assert seen == pytest.approx([0.0, 0.2, 0.4, 0.5])


def test_throughout_fails_at_the_first_value_that_breaks_the_check_saying_when():
    clock = FakeClock()
    values = iter([3, 3, 5, 3])
    with pytest.raises(AssertionError) as raised:
        throughout(lambda: next(values), must_be(3), 2, sleep=clock.sleep, clock=clock, describe=lambda v: f"<{v}>")
    message = str(raised.value)
    assert message.startswith("expected 3 but got 5\nIt stopped being true after 0.4 of 2 seconds (check 3).")
    assert message.endswith("Value seen: <5>")


@pytest.mark.parametrize("duration", [0, 301])
def test_throughout_needs_a_sensible_duration(duration):
    with pytest.raises(errors.TestDataError, match="A wait must last"):
        throughout(lambda: 1, must_be(1), duration)
