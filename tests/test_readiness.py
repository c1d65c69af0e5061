"""Readiness polling: a check that is expensive to run is not run back to back."""

import itertools

import pytest

from crucible.stack import readiness


class Container:
    """A container that is running; reload does nothing."""

    status = "running"

    def reload(self):
        pass


class HeavyCheck(readiness._Wait):
    """A check that takes 0.4 s of (fake) time and passes on its fourth run."""

    budget = 60.0

    def __init__(self, clock):
        self.clock, self.runs = clock, 0

    def describe(self):
        return "a heavy check"

    def _passes(self, container):
        self.runs += 1
        self.clock.now += 0.4
        return self.runs == 4


class Clock:
    """Fake time: sleeping advances it."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def test_a_check_slower_than_the_pause_waits_at_least_as_long_as_it_took(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(readiness.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(readiness.time, "sleep", clock.sleep)
    check = HeavyCheck(clock)
    assert check.wait_until_ready(Container(), "broker") == pytest.approx(2.8)
    assert clock.sleeps == [0.4, 0.4, 0.4]  # not the pauses of a cheap check (0.1, 0.15, 0.225)
    assert list(itertools.islice(readiness.pauses(), 3)) == pytest.approx([0.1, 0.15, 0.225])
