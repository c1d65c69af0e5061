"""What real compose files ask for, honoured on the real engine: volumes, networks, jobs, secrets, options.

Each stack is a few tiny debian:bookworm-slim containers; every test ends with nothing of the
project left on the engine.
"""

import os
from pathlib import Path

import engine_project
import pytest

from crucible.errors import StartupError
from crucible.stack import compose, readiness, running as stack
from crucible.stack.session import prepare, start
from crucible.timings import Timings

pytestmark = pytest.mark.usefixtures("engine_lock")
PROJECT = "crucible-compose-test"
SLEEP = 'image: debian:bookworm-slim\n    command: ["sleep", "600"]\n    stop_signal: SIGKILL'

client, leftovers = engine_project.fixtures(PROJECT)


def up(tmp_path: Path, text: str, env: dict | None = None) -> stack.Stack:
    path = tmp_path / "compose.yaml"
    path.write_text(f"name: {PROJECT}\n{text}")
    project = compose.load(path, env=env or {})
    client, _ = prepare(project, Timings())
    return start(client, project, Timings())


def run(running: stack.Stack, service: str, script: str) -> tuple[int, str]:
    """Run a shell script in a service's container; its exit code and output."""
    code, output = running.running[service].container.exec_run(["sh", "-c", script])
    return code, output.decode().strip()


def test_a_named_volume_outlives_a_restart_of_its_service_and_goes_with_the_run(client, tmp_path):
    running = up(tmp_path, f"""
services:
  store:
    {SLEEP}
    volumes: ["data:/data", "/scratch"]
    post_start: [{{command: "sh -c 'echo started >> /data/log'"}}]
    pre_stop: [{{command: ["sh", "-c", "echo drained >> /data/log"]}}]
  reader:
    {SLEEP}
    volumes_from: ["store:ro"]
    links: ["store:files"]
volumes:
  data:
    labels: {{team: storage}}
""")
    try:
        volume = client.volumes.get(f"{PROJECT}-{running.run_id}-data")
        assert volume.attrs["Labels"][stack.LABEL_RUN] == running.run_id
        assert volume.attrs["Labels"][stack.LABEL_OWNER] == running.owner
        assert volume.attrs["Labels"]["team"] == "storage"
        assert run(running, "store", "echo kept > /data/file")[0] == 0
        running.stop_service("store")
        running.start_service("store")
        assert run(running, "store", "cat /data/file") == (0, "kept")
        assert run(running, "store", "cat /data/log") == (0, "started\ndrained\nstarted")
        assert run(running, "reader", "cat /data/file") == (0, "kept")
        assert run(running, "reader", "touch /data/other")[0] != 0, "volumes_from with :ro is read-only"
        store_ip = running.running["store"].container.attrs["NetworkSettings"]["Networks"][running.network_name]
        assert run(running, "reader", "getent hosts files")[1].split()[0] == store_ip["IPAddress"]
    finally:
        running.down()
    assert leftovers(client) == []


def test_services_reach_each_other_by_alias_on_the_networks_they_share(client, tmp_path):
    running = up(tmp_path, f"""
services:
  api:
    {SLEEP}
    ports: ["127.0.0.1::8000-8001"]
    expose: ["9000"]
    networks:
      back: {{aliases: [db-proxy]}}
      front: {{}}
  web:
    {SLEEP}
    networks: [front]
    dns_opt: ["timeout:1", "attempts:1"]
  worker:
    {SLEEP}
    networks: [back]
    dns_opt: ["timeout:1", "attempts:1"]
  sidecar:
    {SLEEP}
    network_mode: service:api
networks:
  front: {{}}
  back: {{internal: true}}
""")
    try:
        api = running.running["api"].container
        back = api.attrs["NetworkSettings"]["Networks"][f"{PROJECT}-{running.run_id}-back"]
        code, found = run(running, "worker", "getent hosts db-proxy")
        assert (code, found.split()) == (0, [back["IPAddress"], "db-proxy"])
        assert run(running, "web", "getent hosts db-proxy")[0] != 0, "the alias exists on 'back' only"
        assert run(running, "web", "getent hosts api")[0] == 0
        assert run(running, "worker", "getent hosts web")[0] != 0, "web is not on 'back'"
        bindings = api.attrs["NetworkSettings"]["Ports"]
        assert {b[0]["HostIp"] for k, b in bindings.items() if b} == {"127.0.0.1"}
        assert set(running.running["api"].ports) == {8000, 8001}
        assert "9000/tcp" in api.attrs["Config"]["ExposedPorts"]
        assert client.networks.get(f"{PROJECT}-{running.run_id}-back").attrs["Internal"] is True
        sidecar = running.running["sidecar"].container.attrs["HostConfig"]["NetworkMode"]
        assert sidecar == f"container:{api.id}", "the sidecar shares the api's network"
    finally:
        running.down()
    assert leftovers(client) == []


def test_a_one_shot_migration_gates_the_service_that_needs_it(client, tmp_path):
    running = up(tmp_path, """
services:
  migrate:
    image: debian:bookworm-slim
    command: ["sh", "-c", "sleep 1; echo v42 > /shared/schema"]
    volumes: ["shared:/shared"]
  app:
    image: debian:bookworm-slim
    command: ["sh", "-c", "cat /shared/schema > /tmp/seen; exec sleep 600"]
    stop_signal: SIGKILL
    volumes: ["shared:/shared"]
    depends_on:
      migrate: {condition: service_completed_successfully}
volumes:
  shared: {}
""")
    try:
        job = running.running["migrate"].container.attrs["State"]
        app = running.running["app"].container.attrs["State"]
        assert job["Status"] == "exited" and job["ExitCode"] == 0
        assert app["StartedAt"] > job["FinishedAt"]
        assert run(running, "app", "cat /tmp/seen") == (0, "v42")
        readiness.expect_running(running, ["migrate", "app"])  # a job that did its work counts as fine
    finally:
        running.down()
    assert leftovers(client) == []


def test_a_failing_one_shot_job_stops_start_up_and_leaves_nothing(client, tmp_path):
    with pytest.raises(StartupError) as error:
        up(tmp_path, f"""
services:
  migrate:
    image: debian:bookworm-slim
    command: ["sh", "-c", "echo applying 0042_add_index; echo 'ERROR: relation orders missing' >&2; exit 3"]
    volumes: ["shared:/shared"]
  app:
    {SLEEP}
    depends_on:
      migrate: {{condition: service_completed_successfully}}
volumes:
  shared: {{}}
""")
    message = str(error.value)
    assert "One-shot service 'migrate' exited with code 3" in message
    assert "app waited for it and were not started" in message
    assert "applying 0042_add_index" in message and "ERROR: relation orders missing" in message
    assert leftovers(client) == []


def test_secrets_configs_and_container_options_are_in_place(client, tmp_path):
    (tmp_path / "db_password.txt").write_text("s3cret\n")
    (tmp_path / "app.env").write_text("# from the env file\nGREETING=hello\nexport LEVEL=${LOG_LEVEL:-info}\n")
    running = up(tmp_path, f"""
services:
  app:
    {SLEEP}
    user: "1000:1000"
    working_dir: /tmp
    hostname: shop-app
    extra_hosts: ["payments.example:10.1.2.3"]
    env_file: app.env
    restart: on-failure:2
    init: true
    secrets: [db_password, {{source: api_token, target: token}}]
    configs: [{{source: settings, target: /etc/app/settings.ini}}]
secrets:
  db_password: {{file: ./db_password.txt}}
  api_token: {{environment: CRUCIBLE_TEST_TOKEN}}
configs:
  settings: {{content: "mode=test"}}
""", env={"CRUCIBLE_TEST_TOKEN": "tok-123"})
    try:
        assert run(running, "app", "cat /run/secrets/db_password") == (0, "s3cret")
        assert run(running, "app", "cat /run/secrets/token") == (0, "tok-123")
        assert run(running, "app", "cat /etc/app/settings.ini") == (0, "mode=test")
        assert run(running, "app", "echo x > /run/secrets/db_password")[0] != 0, "secrets are read-only"
        assert run(running, "app", "id -u; pwd; hostname") == (0, "1000\n/tmp\nshop-app")
        assert run(running, "app", "getent hosts payments.example")[1].startswith("10.1.2.3")
        assert run(running, "app", "echo $GREETING $LEVEL") == (0, "hello info")
        config = running.running["app"].container.attrs["HostConfig"]
        assert config["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
        assert config["Init"] is True
    finally:
        running.down()
    assert leftovers(client) == []


def test_a_build_target_builds_that_stage_of_the_dockerfile(client, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(
        "FROM debian:bookworm-slim AS base\nRUN echo base > /stage\n"
        "FROM base AS test\nRUN echo test > /stage\n"
        "FROM base AS production\nRUN echo production > /stage\n")
    image = f"{PROJECT}-app:{os.environ.get('CRUCIBLE_IMAGE_TAG', 'dev')}"
    running = up(tmp_path, f"""
services:
  app:
    build: {{context: app, target: test}}
    image: {image}
    command: ["sleep", "600"]
    stop_signal: SIGKILL
""")
    try:
        assert run(running, "app", "cat /stage") == (0, "test")
    finally:
        running.down()
        client.images.remove(image, force=True)
    assert leftovers(client) == []
