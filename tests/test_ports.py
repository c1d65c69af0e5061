"""Which published port a service's steps use: the compose file's order, not the engine's, or the one the
settings name."""

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from crucible import cli
from crucible.errors import ServiceNotFound
from crucible.stack import compose, schemes
from crucible.stack.compose import Healthcheck, Port, Project, Service
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


# A published port never collides: whatever host address and port the file fixes, the engine picks a free
# port of 127.0.0.1; the stack says once which ports moved, and every URL is the real one.

def loaded(tmp_path, services: str):
    path = tmp_path / "compose.yaml"
    path.write_text(f"services:\n{services}")
    return compose.load(path, env={})


def test_the_files_host_address_and_port_are_kept_only_to_say_they_moved(tmp_path):
    project = loaded(tmp_path, """
  web:
    image: nginx:1.25
    ports: ["8080:80", "0.0.0.0:8443:443", "127.0.0.1:9000:9000", "[::]::3000", "5000", "127.0.0.1::7000",
            "8081:80", {target: 6000, published: "6001", host_ip: 0.0.0.0}, "9100-9110:8000"]
""")
    written = [(p.container, p.written) for p in project.services["web"].ports]
    # 80 is written twice ("8080:80", "8081:80"): it is published once, on one random port
    assert written == [(80, "8080"), (443, "0.0.0.0:8443"), (9000, "9000"), (3000, "[::]"), (5000, ""),
                       (7000, ""), (6000, "0.0.0.0:6001"), (8000, "9100-9110")]
    assert project.notices == (), "the move is said once the stack has started, with the ports it got"


def test_the_engine_is_asked_for_a_random_port_of_the_bind_address_for_every_port(tmp_path):
    project = loaded(tmp_path, '  db:\n    image: mariadb:11\n'
                               '    ports: ["3306:3306", "0.0.0.0:33060:33060", "9104"]\n')
    stack = Stack.__new__(Stack)
    stack.bind, stack._containers = "127.0.0.1", {}
    stack.network = lambda name: f"run-{name}"
    config = stack._host_config(project.services["db"], ["default"])
    assert config["port_bindings"] == {"3306/tcp": ("127.0.0.1", None), "33060/tcp": ("127.0.0.1", None),
                                       "9104/tcp": ("127.0.0.1", None)}


def started(project: Project, bound: dict[str, dict[str, int]], bind: str = "127.0.0.1") -> Stack:
    """A stack of ``project`` whose services the engine published as ``bound`` (service -> port key -> host port)."""
    stack = Stack.__new__(Stack)
    stack.host = stack.bind = bind
    stack.project = project
    stack.running = {}
    for name in reversed(list(bound)):  # ready in another order than the file's
        ports = {key: [{"HostIp": bind, "HostPort": str(port)}] for key, port in bound[name].items()}
        container = SimpleNamespace(attrs={"NetworkSettings": {"Ports": ports}})
        stack.running[name] = Running(project.services[name], container, _published(container))
    return stack


def test_one_notice_names_every_moved_port_and_where_it_went(tmp_path, caplog):
    project = loaded(tmp_path, """
  web:
    image: nginx:1.25
    ports: ["8080:80"]
  db:
    image: mariadb:11
    ports: ["0.0.0.0:3306:3306"]
  api:
    image: shop/api:1
    ports: ["8000"]
""")
    stack = started(project, {"web": {"80/tcp": 49213}, "db": {"3306/tcp": 49214}, "api": {"8000/tcp": 49215}})
    assert stack.moved() == ["web 8080->127.0.0.1:49213", "db 0.0.0.0:3306->127.0.0.1:49214"]
    with caplog.at_level(logging.WARNING, logger="crucible"):
        stack.say_moved()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["2 published ports moved to random loopback ports: web 8080->127.0.0.1:49213, "
                     "db 0.0.0.0:3306->127.0.0.1:49214"]


def test_nothing_is_said_when_the_file_fixes_no_host_port(tmp_path, caplog):
    project = loaded(tmp_path, '  api:\n    image: shop/api:1\n    ports: ["8000", "127.0.0.1::9000"]\n')
    stack = started(project, {"api": {"8000/tcp": 40001, "9000/tcp": 40002}})
    with caplog.at_level(logging.WARNING, logger="crucible"):
        stack.say_moved()
    assert stack.moved() == [] and caplog.records == []


def test_stack_json_lists_every_published_port_on_its_real_host_port_with_what_it_speaks(tmp_path):
    project = loaded(tmp_path, """
  broker:
    image: rabbitmq:3-management
    ports: ["5672:5672", "15672:15672"]
  cache:
    image: redis:7
    ports: ["6379:6379"]
  db:
    image: postgres:16
    ports: ["5432:5432"]
  web:
    image: nginx:1.25
    ports: ["8080:80"]
  worker:
    image: shop/worker:1
    ports: ["7070:7070"]
""")
    stack = started(project, {"broker": {"5672/tcp": 41000, "15672/tcp": 41001}, "cache": {"6379/tcp": 41002},
                              "db": {"5432/tcp": 41003}, "web": {"80/tcp": 41004}, "worker": {"7070/tcp": 41005}})
    stack.write_urls(tmp_path / "reports" / "stack.json")
    assert json.loads((tmp_path / "reports" / "stack.json").read_text()) == {
        "broker": "amqp://127.0.0.1:41000", "broker:15672": "http://127.0.0.1:41001",
        "cache": "redis://127.0.0.1:41002", "db": "postgresql://127.0.0.1:41003",
        "web": "http://127.0.0.1:41004", "worker": "tcp://127.0.0.1:41005"}
    # HTTP steps speak HTTP to a port nothing names, on the real host port
    assert stack.http_url("worker") == "http://127.0.0.1:41005"
    assert stack.http_url("broker", 15672) == "http://127.0.0.1:41001"


@pytest.mark.parametrize("image, port, healthcheck, expected", [
    ("postgres:16", 5432, None, "postgresql"),
    ("postgis/postgis:16-3.4", 5433, None, "postgresql"),  # the image names it on a port that is not 5432
    ("mariadb:11", 3306, None, "mysql"),
    ("docker.io/bitnami/mysql:8.0", 3307, None, "mysql"),
    ("redis:7-alpine", 6379, None, "redis"),
    ("valkey/valkey:8", 7000, None, "redis"),
    ("rabbitmq:3-management", 5672, None, "amqp"),
    ("rabbitmq:3-management", 15672, None, "http"),  # the port wins over the image: management is HTTP
    ("eclipse-mosquitto:2", 1883, None, "mqtt"),
    ("nats:2", 4222, None, "nats"),
    ("localhost:5000/team/mongo:7", 27018, None, "mongodb"),
    ("nginx:1.25", 80, None, "http"),
    ("nginx:1.25", 443, None, "https"),
    ("kennethreitz/httpbin", 8081, None, "http"),
    ("shop/api:1", 8000, None, "http"),
    ("shop/api:1", 7070, None, "tcp"),  # nothing names it: not assumed to be HTTP
    ("shop/api:1", 7070, ("CMD-SHELL", "curl -fs http://localhost:7070/health"), "http"),
    ("shop/api:1", 7070, ("CMD", "wget", "-q", "http://127.0.0.1:9999/health"), "tcp"),  # checks another port
    ("crucible/postgres:dev", 5432, None, "postgresql"),
])
def test_the_scheme_shown_follows_what_the_port_speaks(image, port, healthcheck, expected):
    service = Service(name="s", image=image, ports=(Port(port), Port(9999)) if healthcheck and "9999" in healthcheck[-1]
                      else (Port(port),), healthcheck=Healthcheck(test=healthcheck) if healthcheck else None)
    assert schemes.scheme(service, port) == expected


def test_check_says_which_ports_will_move_before_anything_starts(tmp_path, caplog):
    (tmp_path / "compose.yaml").write_text('services:\n  web:\n    image: nginx:1.25\n    ports: ["8080:80"]\n'
                                           '  db:\n    image: mariadb:11\n    ports: ["3306:3306", "33060"]\n')
    with caplog.at_level(logging.INFO, logger="crucible"):
        assert cli.cmd_check(SimpleNamespace(files=[str(tmp_path / "compose.yaml")]),
                             {"project": None, "profiles": []}) == 0
    assert any(r.getMessage() == "2 published ports will be on random loopback ports instead of the file's: "
               "web 8080, db 3306" for r in caplog.records)
