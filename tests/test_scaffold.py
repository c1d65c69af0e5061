"""`crucible init`: a starter project that fits the team's compose file, never overwriting anything."""

import re

import pytest

from crucible import cli, scaffold, settings
from crucible.errors import SettingsError

COMPOSE = """\
services:
  db:
    image: postgres:16
    environment: {POSTGRES_PASSWORD: pw}
    ports: ["5432"]
  queue:
    image: rabbitmq:3-management
    ports: ["5672", "15672"]
  web:
    image: nginx
    ports: ["8080:80"]
"""


def test_init_writes_settings_glue_and_a_smoke_feature_that_fit_the_stack(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    written = scaffold.init(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "crucible.toml", "environment.py", "steps/crucible_steps.py", "features/smoke.feature"]
    feature = (tmp_path / "features" / "smoke.feature").read_text()
    assert 'When I send a GET request to "web" at "/"' in feature  # not the database or the broker
    toml = (tmp_path / "crucible.toml").read_text()
    for hint in ('# service = "queue"', "here 'queue'", "# [databases.web]", '# service = "db"',
                 "# [services.queue]", "# port = 15672"):
        assert hint in toml
    options = settings.load(start=tmp_path, environ={})
    assert options.compose_files == [tmp_path / "compose.yaml"] and options["broker.exchange"] is None


def test_a_stack_of_only_a_database_gets_no_http_scenario(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: postgres:16\n    ports: ['5432']\n")
    scaffold.init(tmp_path)
    feature = (tmp_path / "features" / "smoke.feature").read_text()
    assert "every service of the stack is running" in feature and "GET request" not in feature


def test_init_never_overwrites_and_writes_nothing_when_a_file_is_there(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "smoke.feature").write_text("mine")
    with pytest.raises(SettingsError, match=r"Not overwriting what is there: .*smoke.feature"):
        scaffold.init(tmp_path)
    assert not (tmp_path / "crucible.toml").exists()
    assert (tmp_path / "features" / "smoke.feature").read_text() == "mine"


def test_init_without_a_compose_file_says_what_to_do(tmp_path):
    with pytest.raises(SettingsError, match=r"No compose file in .*crucible init --compose"):
        scaffold.init(tmp_path)


def test_the_command_says_what_to_type_next(tmp_path, monkeypatch, capfd):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [".venv/bin/crucible", "init"])
    assert cli.main(["init"]) == 0
    said = capfd.readouterr().err
    assert "Next, `.venv/bin/crucible check`" in said and "`.venv/bin/crucible run`" in said


def test_every_commented_example_of_the_starter_settings_is_a_setting_the_harness_takes(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    scaffold.init(tmp_path)
    path = tmp_path / "crucible.toml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line[2:] if re.match(r"# (\[|\w+ = )", line) else line for line in lines) + "\n")
    options = settings.load(start=tmp_path, environ={"JWT_SECRET": "s" * 32})
    assert options["auth.scheme"] == "jwt" and options["broker.service"] == "queue"
    assert options.service("web") == {"openapi": "/openapi.json"}
    assert options["security.audit_allow"] == ["answer of web to POST /login"]


def test_the_smoke_scenario_calls_the_service_that_speaks_http_not_a_mysql_or_a_port_nothing_names(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n"
                                           "  worker:\n    image: team/worker:1\n    ports: ['7070']\n"
                                           "  gateway:\n    image: nginx:1.25\n    ports: ['8080:80']\n")
    scaffold.init(tmp_path)
    assert 'When I send a GET request to "gateway" at "/"' in (tmp_path / "features" / "smoke.feature").read_text()


def test_a_stack_of_only_mysql_and_redis_gets_no_http_scenario(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: mysql:8\n    ports: ['3306:3306']\n"
                                           "  cache:\n    image: valkey/valkey:8\n    ports: ['6380']\n")
    scaffold.init(tmp_path)
    assert "GET request" not in (tmp_path / "features" / "smoke.feature").read_text()
