"""Shared fixtures: one real reference stack for every test module that needs it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from crucible import settings
from crucible.stack import engine, images, running as stack, session
from crucible.errors import EngineUnavailable
from crucible.timings import Timings


@pytest.fixture(scope="session")
def engine_client():
    """The Docker engine, with the base image present; the tests that need it are skipped where none answers
    (never in CI)."""
    try:
        client = engine.connect(timeout=10)
    except EngineUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {exc}")
    images.ensure_base(client)
    return client


@pytest.fixture(scope="session")
def engine_available(engine_client):
    """A Docker engine answers (else the test is skipped; in CI it fails)."""
    return engine_client


@pytest.fixture(scope="session")
def reference_stack(engine_client):
    """The reference stack of docker/compose.yaml, started once for the session and removed after it."""
    timings = Timings()
    options = settings.load(start=Path(__file__).resolve().parents[1])
    project = session.load_project(options)
    client, _ = session.prepare(project, timings)
    running = session.start(client, project, timings)
    try:
        yield running
    finally:
        running.down()
    assert stack.runs(client, project.name).get(running.run_id) is None


@pytest.fixture(scope="module")
def engine_lock():
    """Serialise the modules that drive fixed test projects on the engine (several checkouts may share one)."""
    with open("/tmp/crucible-engine-tests.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
