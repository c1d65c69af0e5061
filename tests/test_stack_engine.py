"""The stack against a real Docker engine: start order, readiness, errors, and nothing left behind."""

import logging
import socket
import time
from pathlib import Path

import engine_project
import pytest

import requests

from crucible.stack import compose, engine, running as stack
from crucible.errors import BuildError, ComposeError, EngineUnavailable, StartupError
from crucible.stack.session import prepare, start
from crucible.timings import Timings

pytestmark = pytest.mark.usefixtures("engine_lock")
PROJECT = "crucible-test"

client, leftovers = engine_project.fixtures(PROJECT)


def write(tmp_path: Path, services: str) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(f"name: {PROJECT}\nservices:\n{services}")
    return path


SLEEPER = """
  {name}:
    image: debian:bookworm-slim
    command: ["sh", "-c", "{script}"]
"""


def test_services_start_in_order_on_loopback_and_leave_nothing(client, tmp_path):
    path = write(tmp_path, """
  db:
    image: debian:bookworm-slim
    command: ["sh", "-c", "echo booting; sleep 1; touch /tmp/ready; exec sleep 600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 200ms, retries: 50}
    tmpfs: [/scratch]
  web:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
    ports: ["8000"]
    labels: {team: checkout}
    depends_on: {db: {condition: service_healthy}}
""")
    project = compose.load(path)
    client_, _ = prepare(project, Timings())
    running = start(client_, project, Timings())
    try:
        assert set(running.running) == {"db", "web"}
        assert running.running["db"].ready_after >= 0.9
        web = running.running["web"].container
        assert web.labels[stack.LABEL_PROJECT] == PROJECT
        assert web.labels[stack.LABEL_RUN] == running.run_id
        assert web.labels["team"] == "checkout"
        binding = web.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]
        assert binding["HostIp"] == "127.0.0.1" and int(binding["HostPort"]) > 0
        assert running.url("web") == f"http://127.0.0.1:{binding['HostPort']}"
        db_started = running.running["db"].container.attrs["State"]["StartedAt"]
        assert web.attrs["State"]["StartedAt"] > db_started
        # services reach each other by their compose names on the run's network
        code, _ = web.exec_run(["getent", "hosts", "db"])
        assert code == 0
    finally:
        running.down()
    assert leftovers(client) == []


# A one-line HTTP server on port 80 (Debian's perl-base, in the slim image already), as a YAML block.
HTTP_SERVER = r"""
      - >-
        $$s = IO::Socket::INET->new(LocalPort => 80, Listen => 5, ReuseAddr => 1) or die $$!;
        while ($$c = $$s->accept) { <$$c>; print $$c "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"; close $$c }"""


def test_ports_the_file_fixes_on_host_ports_already_taken_move_to_random_loopback_ports(client, tmp_path, caplog):
    held = []
    for _ in range(2):  # a developer's own stack holds the host ports the team's file names
        listener = socket.create_server(("0.0.0.0", 0))
        held.append(listener)
    web_port, db_port = (listener.getsockname()[1] for listener in held)
    path = write(tmp_path, f"""
  web:
    image: debian:bookworm-slim
    command:
      - perl
      - -MIO::Socket::INET
      - -e{HTTP_SERVER}
    ports: ["{web_port}:80"]
  db:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
    ports: ["0.0.0.0:{db_port}:3306", "33060"]
""")
    project = compose.load(path)
    client_, _ = prepare(project, Timings())
    try:
        with caplog.at_level(logging.WARNING, logger="crucible"):
            running = start(client_, project, Timings())
        try:
            bound = {name: running.running[name].container.attrs["NetworkSettings"]["Ports"] for name in ("web", "db")}
            web, db = bound["web"]["80/tcp"][0], bound["db"]["3306/tcp"][0]
            assert web["HostIp"] == db["HostIp"] == "127.0.0.1"
            assert int(web["HostPort"]) not in (web_port, db_port) and int(db["HostPort"]) not in (web_port, db_port)
            notices = [r.getMessage() for r in caplog.records if "moved" in r.getMessage()]
            assert notices == [f"2 published ports moved to random loopback ports: web {web_port}->127.0.0.1:"
                               f"{web['HostPort']}, db 0.0.0.0:{db_port}->127.0.0.1:{db['HostPort']}"]
            urls = running.urls()
            assert urls["web"] == f"http://127.0.0.1:{web['HostPort']}"
            assert urls["db"] == f"mysql://127.0.0.1:{db['HostPort']}"
            assert urls["db:33060"] == f"tcp://127.0.0.1:{bound['db']['33060/tcp'][0]['HostPort']}"
            deadline, answer = time.monotonic() + 20, None
            while answer is None and time.monotonic() < deadline:  # the port proxy answers before perl listens
                try:
                    answer = requests.get(running.http_url("web"), timeout=2).text
                except requests.RequestException:
                    time.sleep(0.2)
            assert answer == "hello"
        finally:
            running.down()
    finally:
        for listener in held:
            listener.close()
    assert leftovers(client) == []


def test_a_service_that_never_becomes_ready_is_named_and_the_stack_removed(client, tmp_path):
    path = write(tmp_path, """
  slow:
    image: debian:bookworm-slim
    command: ["sh", "-c", "for i in $$(seq 1 30); do echo line $$i; done; exec sleep 600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/never"], interval: 200ms, retries: 5, timeout: 1s}
  after:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
    depends_on: {slow: {condition: service_healthy}}
""")
    project = compose.load(path)
    client_, _ = prepare(project, Timings())
    with pytest.raises(StartupError) as error:
        start(client_, project, Timings())
    message = str(error.value)
    assert "Service 'slow' did not become ready within" in message
    assert "test -f /tmp/never" in message
    assert "line 30" in message and "line 11" in message and "line 10\n" not in message
    assert leftovers(client) == []


def test_a_service_that_exits_is_named_with_its_exit_code(client, tmp_path):
    path = write(tmp_path, """
  crasher:
    image: debian:bookworm-slim
    command: ["sh", "-c", "echo cannot open config file; exit 3"]
    healthcheck: {test: ["CMD", "true"], interval: 200ms, retries: 50}
""")
    project = compose.load(path)
    client_, _ = prepare(project, Timings())
    with pytest.raises(StartupError, match=r"(?s)'crasher' exited with code 3.*cannot open config file"):
        start(client_, project, Timings())
    assert leftovers(client) == []


def test_bad_compose_starts_nothing(client, tmp_path):
    before = leftovers(client)
    path = write(tmp_path, "  a:\n    image: debian:bookworm-slim\n    depends_on: [missing]\n")
    with pytest.raises(ComposeError, match="depends on 'missing'"):
        prepare(compose.load(path), Timings())
    assert leftovers(client) == before == []


def test_no_engine_gives_a_message_saying_what_to_do(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    with pytest.raises(EngineUnavailable) as error:
        engine.ensure(wait=2)
    message = str(error.value)
    assert f"No Docker engine answers at tcp://127.0.0.1:{port}" in message
    assert "(DOCKER_HOST)" in message and f"`docker -H tcp://127.0.0.1:{port} info`" in message


def test_runs_of_dead_owners_are_reaped_and_live_ones_kept(client, tmp_path):
    path = write(tmp_path, SLEEPER.format(name="a", script="exec sleep 600"))
    project = compose.load(path)
    dead = stack.Stack(client, project)
    dead.owner = f"{socket.gethostname()}:999999:1"
    alive = stack.Stack(client, project)
    dead.up()
    alive.up()
    try:
        reaped = stack.reap(client, PROJECT)
        assert reaped == [dead.run_id]
        assert set(stack.runs(client, PROJECT)) == {alive.run_id}
    finally:
        alive.down()
        dead.down()
    assert leftovers(client) == []


def test_a_failing_build_names_the_dockerfile_step_and_starts_nothing(client, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nRUN echo preparing\nRUN echo about to break && exit 7\nCMD [\"true\"]\n")
    path = write(tmp_path, "  app:\n    build: app\n")
    with pytest.raises(BuildError) as error:
        prepare(compose.load(path), Timings())
    message = str(error.value)
    assert "Image build for service 'app' failed" in message
    assert "Step 3/4 : RUN echo about to break && exit 7" in message
    assert "returned a non-zero code: 7" in message
    assert "about to break" in message
    assert leftovers(client) == []
