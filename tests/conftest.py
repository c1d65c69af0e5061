"""Shared fixtures: one real reference stack for every test module that needs it."""

from __future__ import annotations

import os

import pytest

from crucible import engine, session, stack
from crucible.errors import EngineUnavailable
from crucible.timings import Timings


@pytest.fixture(scope="session")
def reference_stack():
    """The reference stack of docker/compose.yaml, started once for the session and removed after it."""
    try:
        engine.connect(timeout=10)
    except EngineUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {exc}")
    timings = Timings()
    client, project, _ = session.prepare(session.DEFAULT_COMPOSE, timings)
    running = session.start(client, project, timings)
    try:
        yield running
    finally:
        running.down()
    assert stack.runs(client, project.name).get(running.run_id) is None
