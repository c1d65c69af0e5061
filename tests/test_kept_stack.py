"""A kept stack (`crucible up`) says which services are stale, and `--refresh` rebuilds and restarts only those.

A copy of tests/project with a tiny built service: changing a file its Dockerfile copies, or a
variable its definition uses, must be noticed by the next run against the kept stack. A one-shot job
(a migration) that completed is current, not stale; a changed one runs again on refresh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crucible.stack import engine, running as stack

ROOT = Path(__file__).resolve().parent.parent
CRUCIBLE = str(Path(sys.executable).parent / "crucible")
PROJECT = f"{os.environ.get('CRUCIBLE_PROJECT') or 'crucible'}-kept"
COMPOSE = """name: crucible-kept
services:
  store:
    image: debian:bookworm-slim
    command: ["sh", "-c", "echo store booting; touch /tmp/ready; exec sleep 3600"]
    environment:
      GREETING: ${CRUCIBLE_TEST_GREETING:-hello}
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      retries: 50
  app:
    image: crucible-kept-app:test
    build: ./app
    ports: ["8000"]
    depends_on:
      store: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: debian:bookworm-slim
    command: ["sh", "-c", "echo schema ${CRUCIBLE_TEST_SCHEMA:-1} > /data/schema"]
    volumes: ["data:/data"]
volumes:
  data: {}
"""
DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY served/ /srv/\nCMD ["sleep", "3600"]\n'


@pytest.fixture()
def project(tmp_path, engine_client):
    folder = tmp_path / "project"
    shutil.copytree(ROOT / "tests" / "project", folder, ignore=shutil.ignore_patterns("reports", "scratch"))
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / "app" / "served").mkdir(parents=True)
    (folder / "app" / "Dockerfile").write_text(DOCKERFILE)
    (folder / "app" / "served" / "index.txt").write_text("one")
    (folder / "app" / "notes.txt").write_text("not copied into the image")
    yield folder
    stack.reap(engine_client, PROJECT, include_kept=True)
    assert stack.runs(engine_client, PROJECT) == {}


def command(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "CRUCIBLE_PROJECT": PROJECT, **(env or {})}
    proc = subprocess.run(args, cwd=folder, env=full, text=True, capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def containers() -> dict[str, str]:
    """Service -> container id of the kept stack."""
    found = engine.connect().containers.list(all=True, filters={"label": f"{stack.LABEL_PROJECT}={PROJECT}"})
    return {c.labels[stack.LABEL_SERVICE]: c.id for c in found}


def behave(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """A behave run against the kept stack; its output."""
    run = command(folder, sys.executable, "-m", "behave", "-D", "attach=kept", *args, env=env)
    return run.stdout + run.stderr


def test_a_kept_stack_names_its_stale_services_and_refreshes_only_those(project):
    command(project, CRUCIBLE, "up")
    first = containers()
    assert set(first) == {"store", "app", "migrate"}
    assert "stale" not in behave(project)
    assert "was already up" in command(project, CRUCIBLE, "up").stderr and containers() == first

    (project / "app" / "notes.txt").write_text("changed, but no image holds it")
    assert "stale" not in behave(project)
    (project / "app" / "served" / "index.txt").write_text("two")
    output = behave(project)
    assert "is stale" in output and "app: its build inputs" in output and "store:" not in output, output
    assert containers() == first, "a run without refresh must not touch the stack"

    refreshed = command(project, CRUCIBLE, "up", "--refresh").stderr
    assert "Refreshing 1 stale service(s)" in refreshed and "app          replaced" in refreshed, refreshed
    second = containers()
    assert second["store"] == first["store"] and second["app"] != first["app"]
    assert "stale" not in behave(project)

    changed = {"CRUCIBLE_TEST_GREETING": "bonjour", "CRUCIBLE_TEST_SCHEMA": "2"}
    output = behave(project, env=changed)
    assert "store: its definition in the compose file (or a variable it uses) changed" in output, output
    assert "migrate: its definition" in output, output
    output = behave(project, "-D", "refresh=1", env=changed)
    assert "store        replaced" in output and "migrate      replaced" in output, output
    assert "1 scenario passed" in output, output
    third = containers()
    assert third["app"] == second["app"] and third["store"] != second["store"]
    assert third["migrate"] != second["migrate"]
    store = engine.connect().containers.get(third["store"])
    assert store.exec_run(["cat", "/data/schema"]).output.decode().strip() == "schema 2", "the job ran again"
    assert "stale" not in behave(project, env=changed)
    command(project, CRUCIBLE, "down")
    assert containers() == {}
