"""Which published port a service's steps use: the compose file's order, not the engine's, or the one the
settings name."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from crucible.errors import ServiceNotFound
from crucible.stack.compose import Port, Project, Service
from crucible.stack.running import Running, Stack, _published

# As the engine reports a broker publishing 5672 and 15672: sorted as text, so 15672 comes first.
ENGINE_PORTS = {"15672/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32933"}], "25672/tcp": None,
                "4369/tcp": None, "5672/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32934"}]}


def broker_stack(*ports: int) -> Stack:
    """A stack whose one service, 'broker', declares ``ports`` in this order and is published as above."""
    service = Service(name="broker", image="rabbitmq:3-management", ports=tuple(Port(p) for p in ports))
    container = SimpleNamespace(attrs={"NetworkSettings": {"Ports": ENGINE_PORTS}})
    stack = Stack.__new__(Stack)
    stack.host = "127.0.0.1"
    stack.project = Project(name="parcels", path=Path("compose.yaml"), services={"broker": service})
    stack.running = {"broker": Running(service, container, _published(container))}
    return stack


def test_the_first_published_port_is_the_compose_files_first_not_the_engines():
    assert broker_stack(5672, 15672).url("broker") == "amqp://127.0.0.1:32934"
    assert broker_stack(15672, 5672).url("broker") == "http://127.0.0.1:32933"


def test_a_named_port_is_used_and_an_unpublished_one_is_named():
    assert broker_stack(5672, 15672).url("broker", 15672) == "http://127.0.0.1:32933"
    with pytest.raises(ServiceNotFound, match=r"'broker' does not publish port 8080 \(it publishes \[5672, 15672\]\)"):
        broker_stack(5672, 15672).url("broker", 8080)
