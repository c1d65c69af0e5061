"""A test project on the real engine: its client fixture and what it left (tests/test_stack_engine.py, test_compose_engine.py)."""

from __future__ import annotations

from functools import partial

import pytest

from crucible.stack import running


def leftovers(client, project: str) -> list[str]:
    """Every container, network and volume labelled with the project that is still on the engine."""
    filters = {"label": f"{running.LABEL_PROJECT}={project}"}
    return ([f"container {c.name}" for c in client.containers.list(all=True, filters=filters)]
            + [f"network {n.name}" for n in client.networks.list(filters=filters)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=filters)])


def fixtures(project: str):
    """A module's ``client`` fixture (the engine, and afterwards every object of the project removed) and its
    ``leftovers(client)``."""
    @pytest.fixture(scope="module")
    def client(engine_client):
        yield engine_client
        running.reap(engine_client, project, include_kept=True)

    return client, partial(leftovers, project=project)
