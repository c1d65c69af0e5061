"""Settings the stack cannot honour stop `crucible run` before anything starts: every problem, file and key named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crucible import settings
from crucible.errors import SettingsError
from crucible.stack import compose
from crucible.vocabulary import settings_check

# a team's stack of software nobody here wrote: MariaDB and an nginx gateway, fixed host ports as teams write them
COMPOSE = """\
services:
  db:
    image: mariadb:11
    environment:
      MARIADB_ROOT_PASSWORD: root-planted-pw
    ports: ["3306:3306"]
  api:
    image: nginx:1.25
    environment:
      JWT_SECRET: ""
    ports: ["8080:80"]
"""


def project_with(tmp_path: Path, toml: str):
    (tmp_path / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    (tmp_path / "crucible.toml").write_text('compose = ["compose.yaml"]\n' + toml, encoding="utf-8")
    options = settings.load(start=tmp_path, environ={})
    return options, compose.load(options.compose_files)


def test_a_mysql_dsn_is_refused_in_words_before_anything_starts(tmp_path):
    options, project = project_with(tmp_path, '[databases.db]\ndsn = "mysql://app:app-planted-pw@db:3306/app"\n')

    with pytest.raises(SettingsError) as raised:
        settings_check.check(options, project)

    message = str(raised.value)
    assert message.startswith("crucible.toml key 'databases.db.dsn' is a mysql:// URL (mysql://app:***@db:3306/app)")
    assert "PostgreSQL only (MySQL is not supported yet)" in message and message.endswith("Nothing was started.")
    assert "app-planted-pw" not in message


def test_every_problem_is_named_at_once(tmp_path):
    options, project = project_with(tmp_path, """
broker.service = "rabbit"
[auth]
scheme = "jwt"
secret_from = "api.JWT_SECRET"
[databases.api]
service = "db"
[services.gateway]
port = 80
[services.api]
port = 8081
openapi = "docs/api.yaml"
""")

    found = settings_check.problems(options, project)

    assert len(found) == 6, found
    text = "\n".join(found)
    assert "'services.gateway': 'gateway' is not a service of" in text
    assert "'services.api.port' is 8081, which service 'api' does not publish" in text and "(it publishes: 80)" in text
    assert "'services.api.openapi' names" in text and "which is not a file" in text
    assert "The database of service 'api' is unknown: service 'db' (named by [databases.api]) has no" in text
    assert "'broker.service': 'rabbit' is not a service" in text
    assert "'auth.secret_from' = 'api.JWT_SECRET': service 'api' has no JWT_SECRET (or an empty one)" in text


def test_settings_that_fit_the_stack_pass(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "api.yaml").write_text("openapi: 3.0.3\n", encoding="utf-8")
    options, project = project_with(tmp_path, '[services.api]\nport = 80\nopenapi = "docs/api.yaml"\n')

    assert settings_check.problems(options, project) == []


def test_crucible_run_stops_on_them_with_no_traceback_and_nothing_started(tmp_path, engine_client):
    project_with(tmp_path, '[databases.db]\ndsn = "mysql://app:app-planted-pw@db:3306/app"\n[services.apl]\nport = 80\n')
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "a.feature").write_text("Feature: A\n  Scenario: B\n    Given nothing\n")
    before = {c.id for c in engine_client.containers.list(all=True)}, {n.id for n in engine_client.networks.list()}

    run = subprocess.run([str(Path(sys.executable).parent / "crucible"), "run"], cwd=tmp_path, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=120)

    assert run.returncode == 2, run.stderr
    assert "2 problems in the settings; nothing was started:" in run.stderr
    assert "did you mean 'api'?" in run.stderr and "MySQL is not supported yet" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    after = {c.id for c in engine_client.containers.list(all=True)}, {n.id for n in engine_client.networks.list()}
    assert after[0] <= before[0] and after[1] <= before[1]
