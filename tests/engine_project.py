"""What a test project left on the real engine (shared by tests/test_stack_engine.py and tests/test_compose_engine.py)."""

from __future__ import annotations

from crucible.stack import running


def leftovers(client, project: str) -> list[str]:
    """Every container, network and volume labelled with the project that is still on the engine."""
    filters = {"label": f"{running.LABEL_PROJECT}={project}"}
    return ([f"container {c.name}" for c in client.containers.list(all=True, filters=filters)]
            + [f"network {n.name}" for n in client.networks.list(filters=filters)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=filters)])
