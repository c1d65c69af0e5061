"""The compose model: what real files use loads; every problem is named by file, line, service and key."""

import logging
from pathlib import Path

import pytest

from crucible import cli
from crucible.errors import ComposeError
from crucible.stack import compose
from crucible.stack.compose import schema, support

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str | bytes, name: str = "compose.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def refused(path, **kwargs) -> str:
    """The message of the ComposeError loading ``path`` raises."""
    with pytest.raises(ComposeError) as error:
        compose.load(path, **{"env": {}, **kwargs})
    return str(error.value)


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
    assert project.notices == ()


def test_full_subset(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile.dev").write_text("FROM debian:bookworm-slim AS base\nFROM base AS dev\n")
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
      start_interval: 100ms
    tmpfs: /data
  app:
    build:
      context: app
      dockerfile: Dockerfile.dev
      target: dev
      args: {VERSION: "1.2"}
    command: ["serve", "--port", "8000"]
    entrypoint: /docker-entrypoint.sh
    environment:
      DEBUG: true
      URL: ${DB_URL:-postgres://db}
    ports: ["8000", "127.0.0.1::9000/tcp", "8080:80", "127.0.0.1::7000-7002", "9100-9101:6000-6001"]
    expose: [3000, "4000-4001/udp"]
    depends_on:
      db: {condition: service_healthy}
    labels: [team=checkout]
    working_dir: /srv
    user: "1000:1000"
    hostname: shop-app
    extra_hosts: ["payments.example:10.0.0.5", "ledger=10.0.0.6"]
    restart: on-failure:3
    stop_signal: SIGINT
    stop_grace_period: 1m
    cap_add: [NET_ADMIN]
    init: true
""")
    project = compose.load(path, env={})
    app, db = project.services["app"], project.services["db"]
    assert project.name == "shop"
    assert app.image == "shop-app"
    assert app.build.dockerfile == "Dockerfile.dev" and app.build.args == {"VERSION": "1.2"}
    assert app.build.target == "dev"
    assert app.command == ("serve", "--port", "8000") and app.entrypoint == "/docker-entrypoint.sh"
    assert app.environment == {"DEBUG": "true", "URL": "postgres://db"}
    assert [(p.container, p.host) for p in app.ports] == [
        (8000, None), (9000, None), (80, 8080), (7000, None), (7001, None), (7002, None), (6000, 9100), (6001, 9101)]
    assert app.expose == ("3000/tcp", "4000/udp", "4001/udp")
    assert app.labels == {"team": "checkout"}
    assert (app.working_dir, app.user, app.hostname) == ("/srv", "1000:1000", "shop-app")
    assert app.extra_hosts == ("payments.example:10.0.0.5", "ledger:10.0.0.6")
    assert (app.restart, app.stop_signal, app.stop_grace_period) == ("on-failure:3", "SIGINT", 60.0)
    assert app.host_options == {"cap_add": ["NET_ADMIN"], "init": True}
    assert db.healthcheck.interval == 0.5 and db.healthcheck.start_period == 90
    assert db.healthcheck.start_interval == 0.1
    assert db.healthcheck.command() == ["/bin/sh", "-c", "pg_isready"]
    assert db.tmpfs == ("/data",)
    assert project.levels() == [["db"], ["app"]]


def test_volumes_networks_secrets_and_jobs(tmp_path):
    (tmp_path / "db_password.txt").write_text("pw")
    path = write(tmp_path, """
services:
  db:
    image: postgres:16
    volumes: ["pgdata:/var/lib/postgresql/data", "./init:/docker-entrypoint-initdb.d:ro", "/tmp/cache"]
    networks:
      back: {aliases: [database, pg]}
    secrets: [db_password]
  migrate:
    image: shop/migrate:1
    networks: [back]
    depends_on: {db: {condition: service_healthy, required: true}}
  web:
    image: shop/web:1
    networks: [front, back]
    depends_on:
      migrate: {condition: service_completed_successfully}
    configs: [{source: nginx, target: /etc/nginx/conf.d/site.conf}]
    secrets: [{source: token, target: api_token}]
volumes:
  pgdata:
    driver_opts: {type: tmpfs, device: tmpfs}
networks:
  front: {}
  back: {internal: true}
secrets:
  db_password: {file: ./db_password.txt}
  token: {environment: API_TOKEN}
configs:
  nginx: {content: "server {}"}
""")
    project = compose.load(path, env={"API_TOKEN": "t0k"})
    db, web = project.services["db"], project.services["web"]
    assert [(m.kind, m.source, m.target, m.read_only) for m in db.mounts] == [
        ("volume", "pgdata", "/var/lib/postgresql/data", False),
        ("bind", str(tmp_path / "init"), "/docker-entrypoint-initdb.d", True),
        ("volume", None, "/tmp/cache", False)]
    assert db.mounts[1].create_host_path
    assert db.networks["back"].aliases == ("database", "pg")
    assert list(web.networks) == ["front", "back"]
    assert project.networks["back"].internal and set(project.networks) == {"back", "front"}
    assert project.volumes["pgdata"].driver_opts == {"type": "tmpfs", "device": "tmpfs"}
    assert [(f.target, f.file) for f in db.files] == [("/run/secrets/db_password", tmp_path / "db_password.txt")]
    assert [(f.target, f.content) for f in web.files] == [
        ("/run/secrets/api_token", "t0k"), ("/etc/nginx/conf.d/site.conf", "server {}")]
    assert project.jobs() == {"migrate"}
    assert project.levels() == [["db"], ["migrate"], ["web"]]


# The check-time gaps new users met: each was accepted (or crashed) before, and fails at check time now.
@pytest.mark.parametrize("text, expected", [
    (b"services:\n  a:\n    image: 'shop/web:1.0 beta'\n",
     "compose.yaml:3: service 'a', key 'image': image 'shop/web:1.0 beta' is not a valid image reference"),
    (b"services:\n  a:\n    image: Shop/Web\n", "repository names must be lowercase"),
    (b"services:\n  a:\n    image: x\n    environment:\n      - A=1\n      - =x\n",
     "compose.yaml:6: service 'a', key 'environment[1]': entry '=x' has no variable name"),
    (b"services:\n  a:\n    image: x\n    ports: ['8080:80', '70000']\n",
     "compose.yaml:4: service 'a', key 'ports[1]': port '70000': 70000 is outside 1-65535"),
    (b"services:\n  a:\n    image: x\n    ports: [{target: 0}]\n", "0 is outside 1-65535"),
    (b"services:\n  a:\n    image: x\n    environment:\n      CONFIG: {level: debug}\n",
     "compose.yaml:5: service 'a', key 'environment.CONFIG': the value of 'CONFIG' is a mapping"),
    (b"services:\n  a:\n    image: caf\xe9\n",
     "compose.yaml:3: the file is not UTF-8 text (byte 0xE9 at column 15)"),
])
def test_check_time_gaps_are_errors_with_file_and_line(tmp_path, text, expected):
    assert expected in refused(write(tmp_path, text))


@pytest.mark.parametrize("text, expected", [
    ("services: [oops\n", "compose.yaml:2: not valid YAML"),
    ("services:\n  a:\n    image: x\n    depends_on: [ghost]\n",
     "service 'a', key 'depends_on.ghost': depends on 'ghost', which is not a service in this file"),
    ("services:\n  a:\n    image: x\n    volumes: [data:/data]\n",
     "service 'a', key 'volumes[0]': uses volume 'data', which is not declared under the top-level 'volumes:'"),
    ("services:\n  a:\n    image: x\n    networks: [back]\n", "joins network 'back', which is not declared"),
    ("services:\n  a:\n    image: x\n    secrets: [pw]\n", "uses secret 'pw', which is not declared"),
    ("services:\n  a:\n    image: x\n    secrets: [pw]\nsecrets:\n  pw: {file: ./missing.txt}\n",
     "key 'secrets.pw.file': '"),
    ("services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, 'true'], interval: soon}\n",
     "cannot read duration 'soon'"),
    ("services:\n  a:\n    image: x\n    ports: [web]\n", "cannot read port 'web'"),
    ("services:\n  a:\n    command: run\n", "service 'a': has neither 'image' nor 'build'"),
    ("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: y\n    depends_on: [a]\n",
     "services depend on each other in a cycle: a -> b -> a"),
    ("services:\n  a:\n    image: ${MISSING:?set the image}\n", "variable 'MISSING' is required: set the image"),
    ("services: {}\n", "no services are defined"),
    ("services:\n  a:\n    image: x\n    restart: sometimes\n", "restart policy 'sometimes' is unknown"),
    ("services:\n  a:\n    image: x\n    network_mode: host\n", "network_mode 'host' is not supported"),
    ("services:\n  a:\n    image: x\n    pre_start: [{command: init}]\n", "'pre_start' is not supported"),
    ("services:\n  a:\n    image: x\n    external_links: [redis]\n", "'external_links' is not supported"),
    ("services:\n  a:\n    image: x\n    working_dir: app\n", "working_dir 'app' is not an absolute path"),
    ("services:\n  a:\n    image: x\n    networks:\n      lab: {ipv4_address: 10.5.0.9}\nnetworks:\n  lab: {}\n",
     "compose.yaml:5: service 'a', key 'networks.lab.ipv4_address': a fixed address needs a network with a subnet"),
    ("services:\n  a:\n    image: x\n    image: y\n", "compose.yaml:4: key 'image' is written 2 times"),
    ("services:\n  a:\n    image: x\n    privilegd: true\n",
     "compose.yaml:4: service 'a', key 'privilegd': 'privilegd' is not a key the Compose specification has here"),
    ("services:\n  a:\n    build:\n      context: .\n      dockerfile_inline: FROM x\n",
     "'build.dockerfile_inline' is not supported"),
    ("services:\n  a:\n    image: x\n    volumes: [{type: bind, source: ./none, target: /x}]\n",
     "bind source '"),
])
def test_bad_input_is_refused_with_file_service_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    message = refused(path)
    assert expected in message
    assert str(path) in message


def test_every_problem_of_every_file_is_reported_in_one_pass(tmp_path):
    base = write(tmp_path, """
services:
  web:
    image: shop/web:1
    ports: ["70000"]
    privilegd: true
  db:
    image: postgres:16
    restart: sometimes
""")
    extra = write(tmp_path, "services:\n  web:\n    depends_on: [dbb]\n    environment: ['=x']\n", "extra.yaml")
    message = refused([base, extra])
    assert message.startswith("5 problems in the compose file(s); nothing was started:")
    for expected in ("compose.yaml:5: service 'web', key 'ports[0]'", "compose.yaml:6: service 'web', key 'privilegd'",
                     "compose.yaml:9: service 'db', key 'restart'",
                     "extra.yaml:3: service 'web', key 'depends_on.dbb': depends on 'dbb'", "did you mean 'db'?",
                     "extra.yaml:4: service 'web', key 'environment[0]'"):
        assert expected in message


def test_merge_keys_and_extensions_work_and_errors_point_at_the_written_line(tmp_path):
    path = write(tmp_path, """x-defaults: &defaults
  restart: unless-stopped
  environment: &env
    LOG_LEVEL: info
x-broken: &broken
  ports: ["99999"]
services:
  web:
    <<: *defaults
    image: shop/web:1
    environment:
      <<: *env
      MODE: prod
  api:
    <<: [*defaults, *broken]
    image: shop/api:1
""")
    assert "compose.yaml:6: service 'api', key 'ports[0]': port '99999': 99999 is outside 1-65535" in refused(path)
    path.write_text(path.read_text().replace('"99999"', '"9000"'))
    project = compose.load(path, env={})
    assert project.services["web"].environment == {"LOG_LEVEL": "info", "MODE": "prod"}
    assert project.services["api"].restart == "unless-stopped"


def test_yaml_is_read_as_compose_reads_it(tmp_path):
    path = write(tmp_path, "services:\n  a:\n    image: x\n    restart: no\n    ports: [22:22]\n")
    service = compose.load(path, env={}).services["a"]
    assert service.restart == "no" and [(p.host, p.container) for p in service.ports] == [(22, 22)]


def test_files_merge_as_compose_merges_them(tmp_path):
    base = write(tmp_path, """
services:
  web:
    image: shop/web:1
    command: ["serve"]
    ports: ["8000"]
    environment: {LOG_LEVEL: info, TZ: UTC}
  db:
    image: postgres:16
    ports: ["5432"]
""")
    override = write(tmp_path, """
services:
  web:
    command: ["serve", "--reload"]
    ports: ["8000", "9229"]
    environment: [MODE=dev, TZ]
  db:
    ports: !override ["127.0.0.1::5433"]
    environment: {TZ: !reset null}
  tools:
    image: shop/tools:1
    profiles: [debug]
""", "compose.override.yaml")
    project = compose.load([base, override], env={"TZ": "Europe/Paris"})
    web, db = project.services["web"], project.services["db"]
    assert web.command == ("serve", "--reload")
    assert [p.container for p in web.ports] == [8000, 9229]
    assert web.environment == {"LOG_LEVEL": "info", "TZ": "Europe/Paris", "MODE": "dev"}
    assert [p.container for p in db.ports] == [5433] and db.environment == {}
    assert "tools" not in project.services
    assert "tools" in compose.load([base, override], env={}, profiles=["debug"]).services
    assert "tools" in compose.load([base, override], env={"COMPOSE_PROFILES": "debug"}).services
    assert project.files == (base, override)


def test_a_dependency_on_a_service_of_a_disabled_profile_says_which_profile(tmp_path):
    path = write(tmp_path, """
services:
  web:
    image: shop/web:1
    depends_on: [mail]
  mail:
    image: mailhog:1
    profiles: [mail]
""")
    assert "depends on 'mail', which runs only with the profile(s) mail" in refused(path)


def test_extends_include_and_dotenv(tmp_path):
    (tmp_path / "common.yaml").write_text("services:\n  base:\n    image: shop/base:${TAG}\n"
                                          "    environment: {A: '1'}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "compose.yaml").write_text("services:\n  cache:\n    image: redis:7\n"
                                                   "    env_file: cache.env\n")
    (tmp_path / "sub" / "cache.env").write_text("MAXMEMORY=64mb\n")
    (tmp_path / ".env").write_text("TAG=2.0\n")
    path = write(tmp_path, """
include: [sub/compose.yaml]
services:
  web:
    extends: {file: common.yaml, service: base}
    environment: {B: "2"}
""")
    project = compose.load(path, env={})
    assert project.services["web"].image == "shop/base:2.0"
    assert project.services["web"].environment == {"A": "1", "B": "2"}
    assert project.services["cache"].environment == {"MAXMEMORY": "64mb"}


def test_an_included_project_is_interpolated_with_its_own_env_file(tmp_path):
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "compose.yaml").write_text("services:\n  search:\n    image: opensearch:${SEARCH_TAG}\n")
    (tmp_path / "search.env").write_text("SEARCH_TAG=2.14.0\n")
    path = write(tmp_path, "include:\n  - path: search/compose.yaml\n    env_file: search.env\n"
                           "services:\n  shop:\n    image: shop:1\n")
    assert compose.load(path, env={}).services["search"].image == "opensearch:2.14.0"


def test_every_key_of_the_specification_is_honoured_ignored_or_refused():
    spec = schema.schema()
    service, _ = schema._declared(spec["$defs"]["service"])
    known = {*support.HONOURED, *support.HOST_OPTIONS, *support.IGNORED, *support.REFUSED}
    assert sorted(service - known) == [], "service keys Crucible says nothing about"
    build = set(spec["$defs"]["workload_spec"]["properties"]["build"]["oneOf"][1]["properties"])
    read = {"context", "dockerfile", "args", "target", "labels", "network", "shm_size", "extra_hosts", "no_cache",
            "cache_from"}
    assert sorted(build - read - set(support.BUILD_IGNORED) - set(support.BUILD_REFUSED)) == []
    top = set(spec["properties"]) - {"name", "services", "networks", "volumes", "secrets", "configs", "include"}
    assert sorted(top - set(support.TOP_IGNORED) - set(support.TOP_REFUSED)) == []


def test_what_is_ignored_is_said_once(tmp_path, caplog):
    path = write(tmp_path, """
services:
  web:
    image: shop/web:1
    container_name: web
    deploy:
      resources: {limits: {memory: 1G}}
    logging: {driver: syslog}
    ports: ["0.0.0.0:8080:80"]
""")
    with caplog.at_level(logging.WARNING, logger="crucible"):
        project = compose.load(path, env={})
        compose.load(path, env={})
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == len(project.notices) == 3, notices
    assert any("compose.yaml:5: service 'web', key 'container_name': 'container_name' is ignored" in n for n in notices)
    # the fixed address and port are said once the stack has started, with the ports it got instead
    assert not any("0.0.0.0" in n for n in notices)
    port = project.services["web"].ports[0]
    assert (port.host, port.host_ip, port.written) == (8080, "0.0.0.0", "0.0.0.0:8080")


def test_scaled_to_zero_is_not_started(tmp_path):
    path = write(tmp_path, "services:\n  a:\n    image: x\n  b:\n    image: y\n    deploy: {replicas: 0}\n")
    assert list(compose.load(path, env={}).services) == ["a"]


def test_missing_build_context_is_named(tmp_path):
    path = write(tmp_path, "services:\n  a:\n    build: ./nowhere\n")
    assert "build context" in refused(path) and "nowhere' is not a directory" in refused(path)


def test_crucible_check_takes_several_files(tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "services:\n  web:\n    image: shop/web:1\n")
    write(tmp_path, "services:\n  web:\n    depends_on: [db]\n  db:\n    image: postgres:16\n", "more.yaml")
    assert cli.main(["check", "compose.yaml", "more.yaml"]) == 0
    assert "start order [db] -> [web]" in capfd.readouterr().err
    write(tmp_path, "services:\n  web:\n    depends_on: [dbb]\n", "broken.yaml")
    assert cli.main(["check", "compose.yaml", "broken.yaml"]) == 2
    assert "broken.yaml:3: service 'web', key 'depends_on.dbb'" in capfd.readouterr().err


def test_readme_describes_every_key_crucible_treats_specially():
    section = (ROOT / "README.md").read_text().split("### Compose support", 1)[1].split("\n## ", 1)[0]
    keys = [*support.HONOURED, *support.HOST_OPTIONS, *support.IGNORED, *support.REFUSED, *support.TOP_IGNORED,
            *support.TOP_REFUSED, *support.BUILD_IGNORED, *support.BUILD_REFUSED, *support.DEPLOY_IGNORED]
    missing = [key for key in keys if f"`{key}`" not in section]
    assert not missing, f"README's 'Compose support' section does not mention: {missing}"


@pytest.mark.parametrize("written, seconds", [("0", 0.0), ("10ns", 0.0), ("1us", 1e-6), ("1µs", 1e-6), ("1m30s", 90.0),
                                               (".5s", 0.5), ("1h2m3.5s", 3723.5)])
def test_durations_follow_gos_rules(tmp_path, written, seconds):
    # Compose reads durations with Go's time.ParseDuration: a bare 0, ns and µs are durations too
    path = write(tmp_path, f"services:\n  a:\n    image: x\n    stop_grace_period: '{written}'\n"
                           f"    healthcheck: {{test: [CMD, 'true'], interval: '{written}'}}\n")
    service = compose.load(path, env={}).services["a"]
    assert service.stop_grace_period == pytest.approx(seconds) and service.healthcheck.interval == pytest.approx(seconds)


@pytest.mark.parametrize("written", ["1d", "5", "1s2", "soon", "1.5.2s"])
def test_what_go_does_not_read_as_a_duration_is_refused(tmp_path, written):
    path = write(tmp_path, f"services:\n  a:\n    image: x\n    stop_grace_period: '{written}'\n")
    assert f"compose.yaml:4: service 'a', key 'stop_grace_period': cannot read duration '{written}'" in refused(path)
