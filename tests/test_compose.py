"""The compose model: the supported subset loads, everything else is refused by name and line."""

from pathlib import Path

import pytest

from crucible.stack import compose
from crucible.errors import ComposeError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    return path


def test_the_reference_stack_loads_with_standard_keys_only():
    project = compose.load(ROOT / "docker" / "compose.yaml", env={})
    assert set(project.services) == {"orders", "inventory", "payments", "fraud", "postgres", "rabbitmq"}
    levels = project.levels()
    flat = [name for level in levels for name in level]
    assert flat.index("postgres") < flat.index("inventory") < flat.index("orders")
    for name in ("orders", "inventory", "payments", "fraud"):
        service = project.services[name]
        assert service.depends_on["postgres"] == "service_healthy"
        assert service.healthcheck is not None
        assert all(port.host is None for port in service.ports), "host ports must be random"
    assert project.services["orders"].environment["JWT_SECRET"] == "crucible-dev-secret-not-for-production"


def test_full_subset(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile.dev").write_text("FROM debian:bookworm-slim\n")
    path = write(tmp_path, """
name: shop
services:
  db:
    image: example/db:1
    healthcheck:
      test: ["CMD-SHELL", "pg_isready"]
      interval: 500ms
      timeout: 2s
      retries: 5
      start_period: 1m30s
    tmpfs: /data
  app:
    build:
      context: app
      dockerfile: Dockerfile.dev
      args: {VERSION: "1.2"}
    command: ["serve", "--port", "8000"]
    environment:
      DEBUG: true
      URL: ${DB_URL:-postgres://db}
    ports: ["8000", "127.0.0.1::9000/tcp", "8080:80"]
    depends_on:
      db: {condition: service_healthy}
    labels: [team=checkout]
""")
    project = compose.load(path, env={})
    app, db = project.services["app"], project.services["db"]
    assert project.name == "shop"
    assert app.image == "shop-app"
    assert app.build.dockerfile == "Dockerfile.dev" and app.build.args == {"VERSION": "1.2"}
    assert app.command == ("serve", "--port", "8000")
    assert app.environment == {"DEBUG": "true", "URL": "postgres://db"}
    assert [(p.container, p.host) for p in app.ports] == [(8000, None), (9000, None), (80, 8080)]
    assert app.labels == {"team": "checkout"}
    assert db.healthcheck.interval == 0.5 and db.healthcheck.start_period == 90
    assert db.healthcheck.command() == ["/bin/sh", "-c", "pg_isready"]
    assert db.tmpfs == ("/data",)
    assert project.levels() == [["db"], ["app"]]


def test_variables_come_from_the_environment(tmp_path):
    path = write(tmp_path, "services:\n  a:\n    image: x/${TAG}\n    environment: {P: $$HOME}\n")
    service = compose.load(path, env={"TAG": "v2"}).services["a"]
    assert service.image == "x/v2" and service.environment == {"P": "$HOME"}


@pytest.mark.parametrize("text, expected", [
    ("services: [oops\n", "not valid YAML"),
    ("services:\n  a:\n    image: x\n    volumes: [data:/data]\n",
     "service 'a', key 'volumes': 'volumes' is not supported in a service"),
    ("services:\n  a:\n    image: x\n    depends_on: [ghost]\n",
     "service 'a', key 'depends_on.ghost': depends on 'ghost', which is not a service in this file"),
    ("services:\n  a:\n    image: x\nvolumes: {}\n", "'volumes' is not supported in the top level"),
    ("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_completed_successfully}\n"
     "  b:\n    image: y\n", "condition 'service_completed_successfully' is not supported"),
    ("services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, true], interval: soon}\n",
     "cannot read duration 'soon'"),
    ("services:\n  a:\n    image: x\n    ports: [web]\n", "cannot read port 'web'"),
    ("services:\n  a:\n    command: run\n", "service 'a': has neither 'image' nor 'build'"),
    ("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: y\n    depends_on: [a]\n",
     "cycle"),
    ("services:\n  a:\n    image: ${MISSING:?set the image}\n", "variable 'MISSING' is required"),
    ("services: {}\n", "no services are defined"),
])
def test_bad_input_is_refused_with_file_service_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ComposeError) as error:
        compose.load(path, env={})
    message = str(error.value)
    assert expected in message
    assert str(path) in message


def test_error_names_the_line(tmp_path):
    path = write(tmp_path, "services:\n  a:\n    image: x\n    privileged: true\n")
    with pytest.raises(ComposeError, match=r"compose.yaml:4: service 'a', key 'privileged'"):
        compose.load(path, env={})


def test_missing_build_context_is_named(tmp_path):
    path = write(tmp_path, "services:\n  a:\n    build: ./nowhere\n")
    with pytest.raises(ComposeError, match="build context .*nowhere.* is not a directory"):
        compose.load(path, env={})
