"""Remote engines for real: this machine's engine exposed on a loopback TCP port (127.0.0.2, not 127.0.0.1),
reached through DOCKER_HOST or a Docker context as a remote engine is.

Because the engine's address is 127.0.0.2, published ports must bind there and every URL must use it:
a harness that hard-coded 127.0.0.1 anywhere would fail these tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from forwarder import Forwarder
from sshd import SSHD, Sshd

from crucible import settings
from crucible.errors import EngineUnavailable
from crucible.report import results as report
from crucible.stack import engine
from crucible.stack.running import Stack
from crucible.vocabulary import database
from crucible.vocabulary.messaging import Listener, broker_url

ROOT = Path(__file__).resolve().parent.parent
CRUCIBLE = str(Path(sys.executable).parent / "crucible")
PROJECT = f"{os.environ.get('CRUCIBLE_PROJECT') or 'crucible'}-remote"
REMOTE_FEATURE = """Feature: A stack on a remote engine
  Scenario: Services are reached where the engine is, and their logs are read through it
    Given the stack is up
    Then the service "app" is reached at "127.0.0.2"
    And the logs of "store" say "store booting"

  @disruptive
  Scenario: A service restarts on the remote engine
    When the service "app" restarts
    Then the service "app" is running
    And the service "app" is reached at "127.0.0.2"
"""


@pytest.fixture(scope="module")
def forwarder(engine_client):
    if not Path("/var/run/docker.sock").exists():
        pytest.skip("the engine has no local socket to forward")
    found = Forwarder("127.0.0.2")
    yield found
    found.cut()


def crucible(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}, "CRUCIBLE_PROJECT": PROJECT, **env}
    return subprocess.run([CRUCIBLE, *args], cwd=folder, env=full, text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=600)


def leftovers() -> list[str]:
    found = engine.connect().containers.list(all=True, filters={"label": f"crucible.project={PROJECT}"})
    return [c.name for c in found]


def remote_run(folder: Path, address: str, host: str, *args: str, env: dict[str, str]) -> None:
    """`crucible run` of a copy of tests/project on the engine at ``address``: every port bound to and reached at
    ``host``, logs read and a service restarted through it, nothing left behind."""
    shutil.copytree(ROOT / "tests" / "project", folder, ignore=shutil.ignore_patterns("reports", "scratch"))
    (folder / "features" / "remote.feature").write_text(REMOTE_FEATURE.replace("127.0.0.2", host))
    run = crucible(folder, "run", *args, env={"DOCKER_HOST": address, **env})
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Published ports bind to {host} on the engine's machine ({address})" in run.stderr
    environment = report.read_environment(folder / "reports" / "allure-results")
    assert environment["engine.address"] == address and environment["engine.host"] == host
    assert report.summarise(folder / "reports" / "allure-results")["passed"] == 3
    assert leftovers() == []


def test_a_run_with_workers_on_an_engine_over_tcp(forwarder, tmp_path):
    before = forwarder.connections
    remote_run(tmp_path / "project", forwarder.url, "127.0.0.2", "--workers", "2", env={})
    assert forwarder.connections > before


@pytest.fixture(scope="module")
def sshd(engine_client, tmp_path_factory):
    tools = [shutil.which(name) for name in ("ssh", "ssh-keygen", "docker")]
    if not (SSHD.exists() and all(tools) and os.geteuid() == 0):
        pytest.skip("reaching this machine's engine over ssh needs Debian's openssh-server, the ssh client and the "
                    "docker CLI, as root")
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.close()


def test_a_run_on_an_engine_over_ssh(sshd, tmp_path, monkeypatch):
    remote_run(tmp_path / "project", sshd.url, sshd.host, env=sshd.env)
    monkeypatch.setenv("DOCKER_HOST", sshd.url)
    monkeypatch.setenv("HOME", str(tmp_path))  # no known_hosts here: the host key is not trusted
    with pytest.raises(EngineUnavailable, match=r"(?s)not found in known_hosts.*ssh-keyscan -p \d+ 127.0.0.3"):
        engine.connect()


def test_sql_broker_http_and_logs_through_an_engine_over_tcp(forwarder, reference_stack, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", forwarder.url)
    client = engine.connect()
    attached = Stack.attach(client, reference_stack.project, reference_stack.run_id)
    assert attached.host == "127.0.0.1"  # where the stack's ports are bound, not the engine's address
    assert requests.get(attached.url("orders") + "/health/ready", timeout=10).status_code == 200
    options = settings.load(start=ROOT)
    assert database.query_service(attached, options, "inventory", "SELECT 40 + 2 AS answer").rows == [{"answer": 42}]
    listener = Listener(broker_url(attached, options), exchange=options["broker.exchange"])
    try:
        listener.listen("crucible.remote.#")
        listener.publish("crucible.remote.test", {"over": "tcp"})
        assert listener.expect("crucible.remote.test", None, 10).body == {"over": "tcp"}
    finally:
        listener.close()
    assert "rabbitmq" in attached.logs() and attached.logs()["postgres"]


def write_context(config: Path, name: str, host: str) -> None:
    """A Docker context laid out as `docker context create NAME --docker host=HOST` writes it."""
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Metadata": {},
                                                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
    (config / "config.json").write_text(json.dumps({"currentContext": name}))


def test_the_current_docker_context_names_the_engine(forwarder, tmp_path, monkeypatch):
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    write_context(tmp_path, "crucible-remote", forwarder.url)
    assert engine.endpoint().source == "Docker context 'crucible-remote' (the Docker config)"
    client = engine.connect()
    assert (engine.host(client), engine.bind_address(client)) == ("127.0.0.2", "127.0.0.2")
    monkeypatch.setenv("DOCKER_CONTEXT", "nowhere")
    with pytest.raises(EngineUnavailable, match=r"Docker context 'nowhere' \(DOCKER_CONTEXT\) does not exist"):
        engine.connect()


def test_a_context_is_read_where_the_docker_cli_keeps_it(tmp_path, monkeypatch):
    """DOCKER_CONTEXT without a config.json (docker-py alone would look in ./contexts), with its TLS files."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "config"))
    monkeypatch.setenv("DOCKER_CONTEXT", "build-box")
    monkeypatch.chdir(tmp_path)
    write_context(tmp_path / "config", "build-box", "tcp://10.0.0.5:2376")
    (tmp_path / "config" / "config.json").unlink()
    assert engine.endpoint() == engine.Endpoint("tcp://10.0.0.5:2376", "Docker context 'build-box' (DOCKER_CONTEXT)")
    tls = tmp_path / "config" / "contexts" / "tls" / hashlib.sha256(b"build-box").hexdigest() / "docker"
    tls.mkdir(parents=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tls / name).write_text("not read until a connection is made")
    found = engine.endpoint().tls
    assert (found.ca_cert, found.cert, found.verify) == (str(tls / "ca.pem"), (str(tls / "cert.pem"),
                                                                               str(tls / "key.pem")), True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("env, message", [
    ({"DOCKER_HOST": "tcp://127.0.0.1:{port}"}, "No Docker engine answers at tcp://127.0.0.1:{port} (DOCKER_HOST)"),
    ({"DOCKER_HOST": "tcp://127.0.0.1:{port}", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{tmp}/certs"},
     "DOCKER_TLS_VERIFY is set for DOCKER_HOST=tcp://127.0.0.1:{port}, but ca.pem, cert.pem, key.pem are missing "
     "in {tmp}/certs"),
    ({"DOCKER_CONTEXT": "nowhere", "DOCKER_CONFIG": "{tmp}"},
     "Docker context 'nowhere' (DOCKER_CONTEXT) does not exist"),
])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_unusable_engine_is_one_message_and_nothing_starts(forwarder, tmp_path, env, message, workers):
    port = free_port()
    (tmp_path / "config.json").write_text("{}")
    values = {key: value.format(port=port, tmp=tmp_path) for key, value in env.items()}
    run = crucible(ROOT / "tests" / "project", "run", "--workers", workers, env=values)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message.format(port=port, tmp=tmp_path) in run.stderr, run.stderr
    assert run.stderr.count("crucible: ") == 2 and "Traceback" not in run.stderr, run.stderr  # check line + message
    assert run.stdout == "" and leftovers() == []


def test_engine_addresses_of_every_form(monkeypatch):
    for name in ("CRUCIBLE_ENGINE_HOST", "CRUCIBLE_ENGINE_BIND"):
        monkeypatch.delenv(name, raising=False)

    def client(url: str):
        return type("Client", (), {"crucible_endpoint": engine.Endpoint(url, "test")})()

    assert engine.host(client("unix:///var/run/docker.sock")) == "127.0.0.1"
    assert engine.host(client("tcp://10.1.2.3:2376")) == "10.1.2.3"
    assert engine.host(client("ssh://deploy@build-box:2222")) == "build-box"
    assert engine.host(client("tcp://localhost:2375")) == "127.0.0.1"
    assert engine.bind_address(client("unix:///var/run/docker.sock")) == "127.0.0.1"
    assert engine.bind_address(client("tcp://10.1.2.3:2376")) == "10.1.2.3"
    assert engine.reach(client("tcp://10.1.2.3:2376"), "0.0.0.0") == "10.1.2.3"
    monkeypatch.setenv("CRUCIBLE_ENGINE_BIND", "0.0.0.0")
    monkeypatch.setenv("CRUCIBLE_ENGINE_HOST", "build-box.example")
    assert engine.bind_address(client("ssh://deploy@build-box")) == "0.0.0.0"
    assert engine.reach(client("ssh://deploy@build-box"), "0.0.0.0") == "build-box.example"
