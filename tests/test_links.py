"""Links found in the compose file, rerouted environments, and the link proxy itself on loopback ports."""

import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from crucible.errors import TestDataError
from crucible.stack import compose, links

ROOT = Path(__file__).resolve().parents[1]
PROXY = ROOT / "crucible" / "stack" / "linkproxy" / "proxy.py"


@pytest.fixture(scope="module")
def project():
    return compose.load([ROOT / "docker" / "compose.yaml"])


def test_links_are_the_addresses_in_each_services_environment(project):
    found = {link.name: link for link in links.links(project)}
    assert {"payments -> fraud", "orders -> inventory", "orders -> payments", "orders -> postgres",
            "inventory -> rabbitmq"} <= set(found)
    assert found["payments -> fraud"].variables == ("FRAUD_URL",) and found["payments -> fraud"].ports == (8000,)
    assert found["orders -> postgres"].ports == (5432,)
    assert "fraud -> orders" not in found


def test_a_link_that_does_not_exist_is_refused_naming_the_links(project):
    with pytest.raises(TestDataError, match="no link from 'fraud' to 'orders'.*payments -> fraud"):
        links.find(project, "fraud", "orders")
    with pytest.raises(TestDataError, match="no service 'shipping'"):
        links.find(project, "orders", "shipping")


def test_only_the_clients_addresses_of_the_server_are_rerouted(project):
    link = links.find(project, "orders", "inventory")
    env = links.rerouted(project.services["orders"].environment, link)
    assert env["INVENTORY_URL"] == "http://link-orders-inventory:8000"
    assert env["PAYMENTS_URL"] == "http://payments:8000"
    assert env["DATABASE_URL"] == project.services["orders"].environment["DATABASE_URL"]
    db = links.find(project, "orders", "postgres")
    assert links.rerouted(project.services["orders"].environment, db)["DATABASE_URL"] == \
        "postgresql://orders:orders_pw@link-orders-postgres:5432/orders"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture
def proxied():
    """A local HTTP server and the link proxy in front of it, both on loopback ports."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    listen, control = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, str(PROXY), f"{listen}=127.0.0.1:{httpd.server_address[1]}"],
                            env={**os.environ, "CONTROL_PORT": str(control), "LISTEN_HOST": "127.0.0.1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{control}/toxics"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(api, timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the link proxy did not start"
            time.sleep(0.05)
    yield f"http://127.0.0.1:{listen}/", api
    proc.terminate()
    proc.wait(5)
    httpd.shutdown()


def timed_get(session, url):
    started = time.perf_counter()
    response = session.get(url, timeout=5)
    return response.text, time.perf_counter() - started


def test_the_proxy_delays_answers_and_drops_connections(proxied):
    url, api = proxied
    session = requests.Session()
    assert timed_get(session, url)[0] == "hello"
    assert requests.put(api, json={"latency_ms": 400}, timeout=2).json()["latency_ms"] == 400
    text, took = timed_get(session, url)  # the same keep-alive connection is slowed down too
    assert text == "hello" and took >= 0.4
    requests.put(api, json={"drop": True}, timeout=2)
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    state = requests.put(api, json={"drop": False, "latency_ms": 0}, timeout=2).json()
    assert state["dropped"] >= 1
    text, took = timed_get(requests.Session(), url)
    assert text == "hello" and took < 0.4


def test_the_proxy_holds_the_next_calls_until_all_wait_then_lets_them_go_together(proxied):
    url, api = proxied
    kept_alive = requests.Session()
    assert timed_get(kept_alive, url)[0] == "hello"  # a kept-alive connection is gathered like a new one
    state = requests.put(api, json={"gather": 2, "gather_timeout_ms": 10000}, timeout=2).json()
    assert state["gathering"]["wanted"] == 2 and state["gathered"] is None
    answered = []
    first = threading.Thread(target=lambda: answered.append(("first", timed_get(kept_alive, url))))
    first.start()
    deadline = time.monotonic() + 5
    while requests.get(api, timeout=2).json()["gathering"]["held"] < 1:
        assert time.monotonic() < deadline, "the first call never reached the proxy"
        time.sleep(0.02)
    first.join(0.3)
    assert first.is_alive() and not answered, "the first call went on before the second one arrived"
    second = timed_get(requests.Session(), url)
    first.join(5)
    assert second[0] == "hello" and answered[0][1][0] == "hello"
    state = requests.get(api, timeout=2).json()
    assert state["gathering"] is None
    assert state["gathered"]["held"] == 2 and not state["gathered"]["timed_out"]
    assert timed_get(kept_alive, url)[1] < 1  # once only: the next call goes straight on


def test_a_gathering_that_does_not_fill_lets_the_held_calls_go_at_its_timeout(proxied):
    url, api = proxied
    requests.put(api, json={"gather": 2, "gather_timeout_ms": 400}, timeout=2)
    text, took = timed_get(requests.Session(), url)
    assert text == "hello" and took >= 0.35
    gathered = requests.get(api, timeout=2).json()["gathered"]
    assert gathered["held"] == 1 and gathered["wanted"] == 2 and gathered["timed_out"]
