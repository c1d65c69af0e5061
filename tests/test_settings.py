"""Tests of crucible.settings: one file, overridden by the environment, then by -D."""

from __future__ import annotations

from pathlib import Path

import pytest

from crucible import settings
from crucible.errors import SettingsError


def write(folder: Path, text: str) -> Path:
    path = folder / "crucible.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path):
    options = settings.load(start=tmp_path, environ={})

    assert options.file is None and options.root == tmp_path.resolve()
    assert options["report.results"] == "reports/allure-results"
    assert options.path("report.history") == tmp_path.resolve() / "reports" / "history" / "history.jsonl"
    assert options["auth.scheme"] == "none" and options["timeouts.http"] == 10.0


def test_the_file_then_the_environment_then_d_values(tmp_path):
    write(tmp_path, '[broker]\nexchange = "from-file"\nservice = "mq"\n[timeouts]\nhttp = 3\n')

    options = settings.load(start=tmp_path, environ={"CRUCIBLE_BROKER_EXCHANGE": "from-env"},
                            userdata={"broker.service": "from-d"})

    assert options["broker.exchange"] == "from-env"
    assert options["broker.service"] == "from-d"
    assert options["timeouts.http"] == 3.0


def test_short_and_legacy_names(tmp_path):
    options = settings.load(start=tmp_path, environ={"CRUCIBLE_JWT_SECRET": "s3cret", "CRUCIBLE_HISTORY": "/h.jsonl"},
                            userdata={"attach": "kept", "retry": "1", "exchange": "x"})

    assert options["auth.secret"] == "s3cret" and options["report.history"] == "/h.jsonl"
    assert options["run.attach"] == "kept" and options["run.retry"] == 1 and options["broker.exchange"] == "x"


def test_values_may_use_environment_variables(tmp_path):
    write(tmp_path, '[auth]\nscheme = "jwt"\nsecret = "${TEAM_SECRET}"\nusername = "${NOBODY:-anna}"\n')

    options = settings.load(start=tmp_path, environ={"TEAM_SECRET": "abc"})

    assert options["auth.secret"] == "abc" and options["auth.username"] == "anna"


def test_variables_follow_composes_interpolation_rules(tmp_path):
    write(tmp_path, '[auth]\nscheme = "basic"\n'
                    'username = "${EMPTY-kept}|${EMPTY:-used}|${UNSET-${SET}}|${SET:+alt}|${EMPTY+alt}|${EMPTY:+no}|'
                    '$SET|$${SET}"\n'
                    'password = "${SET:?is needed}${EMPTY?is declared}"\n'
                    '[services.orders]\nopenapi = "${DOCS:-docs}/${NAME:-orders}.yaml"\n')

    options = settings.load(start=tmp_path, environ={"EMPTY": "", "SET": "x"})

    assert options["auth.username"] == "|used|x|alt|alt||x|${SET}"
    assert options["auth.password"] == "x"
    assert options["services"]["orders"]["openapi"] == "docs/orders.yaml"
    taken = settings.load(start=tmp_path, environ={"EMPTY": "", "SET": "x", "CRUCIBLE_AUTH_PASSWORD": "pa$$w0rd$"})
    assert taken["auth.password"] == "pa$$w0rd$", "a value from the environment is not interpolated again"


@pytest.mark.parametrize("value, environ, says", [
    ("${API_TOKEN:?the team's token}", {"API_TOKEN": ""}, "variable 'API_TOKEN' is required: the team's token"),
    ("${API_TOKEN?}", {}, "variable 'API_TOKEN' is required: it is not set"),
    ("costs 5$", {}, "write $$ for a literal '$'"),
])
def test_a_variable_that_cannot_be_read_names_the_file_and_the_key(tmp_path, value, environ, says):
    path = write(tmp_path, f'[auth]\nscheme = "bearer"\ntoken = "{value}"\n[services.orders]\nopenapi = "${{DOCS?}}"\n')

    with pytest.raises(SettingsError) as raised:
        settings.load(start=tmp_path, environ={"DOCS": "docs", **environ})
    assert f"{path}: 'auth.token'" in str(raised.value) and says in str(raised.value), str(raised.value)

    write(tmp_path, '[auth]\nscheme = "bearer"\ntoken = "t"\n[services.orders]\nopenapi = "${DOCS?}"\n')
    with pytest.raises(SettingsError, match=r"crucible.toml: 'services.orders.openapi': variable 'DOCS' is required"):
        settings.load(start=tmp_path, environ={})


def test_tables_per_service_and_their_d_overrides(tmp_path):
    write(tmp_path, '[services.rabbitmq]\nport = 15672\n[databases.app]\nservice = "db"\n')

    options = settings.load(start=tmp_path, environ={}, userdata={"services.web.port": "8080"})

    assert options.service("rabbitmq") == {"port": 15672}
    assert options.service("web") == {"port": 8080}
    assert options.database("app") == {"service": "db"} and options.database("web") == {}


def test_an_unknown_key_is_named_with_the_closest_one(tmp_path):
    path = write(tmp_path, '[broker]\nexchnage = "x"\n')

    with pytest.raises(SettingsError, match=r"crucible.toml: unknown setting 'broker.exchnage'.*'broker.exchange'"):
        settings.load(start=tmp_path, environ={})
    assert path.exists()


def test_a_value_of_the_wrong_type_names_the_key(tmp_path):
    write(tmp_path, 'profiles = "debug"\n[timeouts]\nhttp = "soon"\n')

    with pytest.raises(SettingsError, match=r"'timeouts.http' must be a number, not 'soon'"):
        settings.load(start=tmp_path, environ={})


def test_invalid_toml_names_the_file_and_line(tmp_path):
    write(tmp_path, 'compose = ["a.yaml"]\nfeatures = \n')

    with pytest.raises(SettingsError, match=r"crucible.toml: not valid TOML: .*line"):
        settings.load(start=tmp_path, environ={})


def test_an_unknown_auth_scheme_is_refused(tmp_path):
    write(tmp_path, '[auth]\nscheme = "kerberos"\n')

    with pytest.raises(SettingsError, match="auth.scheme 'kerberos' is not one of none, basic, bearer, jwt"):
        settings.load(start=tmp_path, environ={})


def test_tool_crucible_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.crucible]\nfeatures = "specs"\n')

    options = settings.load(start=tmp_path, environ={})

    assert options.file == tmp_path / "pyproject.toml" and options["features"] == "specs"


def test_the_compose_file_is_found_as_compose_finds_it(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")

    assert settings.load(start=tmp_path, environ={}).compose_files == [tmp_path.resolve() / "docker-compose.yml"]


def test_no_compose_file_says_what_to_set(tmp_path):
    with pytest.raises(SettingsError, match=r"No compose file.*compose = \["):
        settings.load(start=tmp_path, environ={}).compose_files


def test_the_repository_settings_load():
    root = Path(__file__).resolve().parents[1]

    options = settings.load(start=root, environ={})

    assert options.compose_files == [root / "docker" / "compose.yaml"]
    assert options["broker.exchange"] == "retail.events" and options["auth.scheme"] == "jwt"


def test_the_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")

    missing = [key.name for key in settings.KEYS if f"| `{key.name}` |" not in readme]
    assert not missing, f"README's Settings table lacks: {', '.join(missing)}"
