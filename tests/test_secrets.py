"""A secret in any form is hidden where Crucible writes it: the forms, the one masking function, the places.

The values are planted: a password with the characters that change between forms (``@``, ``/``, ``"``),
a user, a token. Each test checks that the text that carried the secret still says what it said
(``***`` in its place), so a test cannot pass by writing nothing.
"""

from __future__ import annotations

import ast
import base64
import http.server
import io
import json
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from json_handler import JsonHandler

from crucible import console, secrets, settings
from crucible.errors import SettingsError
from crucible.report import safety, writer
from crucible.vocabulary.auth import Auth

ROOT = Path(__file__).resolve().parents[1]
USER = "parcels"
PASSWORD = 'Pl@nted-pw/42"q'
TOKEN = "planted-bearer-token-61be0f"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
# the password as each place carries it: as it is, inside a JSON string (twice, for an echoed JSON body),
# URL-encoded in a path or a query, in a URL's userinfo, and in base64 (alone and as basic credentials)
FORMS = {
    "raw": PASSWORD,
    "JSON-escaped": json.dumps(PASSWORD)[1:-1],
    "JSON-escaped twice": json.dumps(json.dumps(PASSWORD)[1:-1])[1:-1],
    "URL-encoded": quote(PASSWORD, safe=""),
    "URL-encoded, plus for space": "Pl%40nted-pw%2F42%22q",
    "base64": base64.b64encode(PASSWORD.encode()).decode(),
    "basic credentials": BASIC,
    "basic credentials, URL-safe, unpadded": base64.urlsafe_b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    .rstrip("="),
}


@pytest.fixture
def planted():
    """The run's secrets are the planted ones (as `crucible run` makes them from the settings), then none again."""
    previous = secrets.active()
    known = secrets.use(secrets.Secrets({"the setting services.api.auth.password": PASSWORD,
                                         "the setting services.chatty.auth.token": TOKEN},
                                        {"the setting services.api.auth.password": (USER, PASSWORD)}))
    yield known
    secrets.use(previous)


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_known_secret_is_hidden(planted, form):
    text = f'{{"headers": {{"X-Echo": "before {FORMS[form]} after"}}}}'

    masked = secrets.mask(text)

    assert FORMS[form] not in masked
    assert masked == '{"headers": {"X-Echo": "before *** after"}}'


def test_a_password_in_a_urls_userinfo_is_hidden(planted):
    url = f"postgresql://{USER}:{quote(PASSWORD, safe='')}@db:5432/parcels"

    assert secrets.mask(f"connecting to {url}") == f"connecting to postgresql://{USER}:***@db:5432/parcels"


def test_basic_credentials_are_recognised_by_their_shape_alone():
    unknown = base64.b64encode(b"someone:an-unknown-password").decode()

    assert secrets.mask(f'"Authorization": "Basic {unknown}"') == '"Authorization": "Basic ***"'
    assert secrets.mask("Basic realm=\"shop\"") == "Basic realm=\"shop\""  # a challenge, not credentials
    assert secrets.mask("basic authentication is refused") == "basic authentication is refused"


@pytest.mark.parametrize("placeholder", ["password", "PASSWORD", "${DB_PASSWORD}", "<password>", "***", "...",
                                         "your-password", "SERVICE.VARIABLE", "USER:PASSWORD"])
def test_placeholders_are_not_secrets(placeholder):
    assert secrets.is_placeholder(placeholder)
    assert secrets.mask(f"password = {placeholder}") == f"password = {placeholder}"


def test_a_real_password_next_to_its_key_is_hidden_without_being_known():
    assert secrets.mask("db_password=hunter2-unknown; retrying") == "db_password=***; retrying"


def test_no_text_of_the_harness_reads_as_a_secret():
    """Help texts and messages show placeholders, never something the masking (or the safety check) hides."""
    found = []
    for path in sorted((ROOT / "crucible").rglob("*.py")):
        if path.name == "secrets.py":  # documents the shapes with examples of each
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.replace("{{", "{").replace("}}", "}")  # format templates
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {text[s.start:s.end]!r} ({s.kind})"
                          for s in secrets.shaped(text)]
    assert not found, "\n".join(found)


def test_shortening_masks_first_so_a_cut_secret_is_still_hidden(planted):
    text = "x" * 40 + PASSWORD + "y" * 40

    short = secrets.shortened(text, 50)

    assert short == "x" * 40 + "***" + "y" * 4 + "..."
    assert PASSWORD[:5] not in short


def test_json_values_are_masked_in_keys_and_values(planted):
    value = {"headers": {"Authorization": f"Basic {BASIC}", TOKEN: [PASSWORD, 3]}}

    assert secrets.mask_value(value) == {"headers": {"Authorization": "Basic ***", "***": ["***", 3]}}


def test_the_console_stream_masks_a_secret_split_across_writes(planted):
    target = io.StringIO()
    stream = console.MaskingStream(target)

    stream.write(f"token {TOKEN[:10]}")
    stream.write(f"{TOKEN[10:]} used\nnext ")
    stream.close()

    assert target.getvalue() == "token *** used\nnext "


def test_results_are_written_masked_at_the_source(planted, tmp_path):
    logger = writer.MaskedFileLogger(str(tmp_path / "results"))
    source = tmp_path / "service.log"
    source.write_text(f"GET /basic-auth/{USER}/{FORMS['URL-encoded']} auth=Basic {BASIC}\n", encoding="utf-8")

    logger.report_attached_data(body=f'{{"echo": "{FORMS["JSON-escaped"]}"}}', file_name="body.json")
    logger.report_attached_file(source=str(source), file_name="log.txt")

    written = {path.name: path.read_text(encoding="utf-8") for path in (tmp_path / "results").iterdir()}
    assert written["body.json"] == '{"echo": "***"}'
    assert written["log.txt"] == f"GET /basic-auth/{USER}/*** auth=Basic ***\n"


@pytest.mark.parametrize("form", FORMS)
def test_the_search_after_the_run_finds_every_form_too(planted, tmp_path, form):
    (tmp_path / "a-attachment.txt").write_text(f"echo {FORMS[form]}\n", encoding="utf-8")

    leaks = safety.scan_results(tmp_path, planted)

    assert len(leaks) == 1 and sum(leaks[0].kinds.values()) == 1, leaks
    assert "services.api.auth.password" in str(leaks[0]) and FORMS[form] not in str(leaks[0])


def test_the_settings_secrets_include_every_service_credential_and_dsn_password(tmp_path):
    (tmp_path / "crucible.toml").write_text(f'''
[services.api.auth]
scheme = "basic"
username = "{USER}"
password = '{PASSWORD}'
[services.chatty.auth]
scheme = "bearer"
token = "{TOKEN}"
[databases.orders]
dsn = "postgresql://orders:Db%40planted-pw%2F7@db:5432/orders"
[secrets]
values = ["${{PLANTED_SANDBOX_KEY}}"]
''', encoding="utf-8")
    options = settings.load(start=tmp_path, environ={"PLANTED_SANDBOX_KEY": "sandbox-key-0f3c1a"})

    known = secrets.of_settings(options)

    assert set(known.values.values()) == {PASSWORD, TOKEN, "Db@planted-pw/7", "sandbox-key-0f3c1a"}
    assert known.redact(f"Basic {BASIC} / Db%40planted-pw%2F7 / sandbox-key-0f3c1a") == "Basic *** / *** / ***"


class Echo(JsonHandler):
    """Answers every GET with the request's headers, as httpbin's /headers does."""

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        self.answer(200, json.dumps({"headers": dict(self.headers)}).encode())


@pytest.fixture
def echo():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/headers"
    server.shutdown()


def test_each_service_receives_its_own_credentials_and_no_one_elses(tmp_path, echo):
    (tmp_path / "crucible.toml").write_text(f'''
[auth]
scheme = "bearer"
token = "{TOKEN}"
[services.api.auth]
scheme = "basic"
username = "{USER}"
password = '{PASSWORD}'
[services.mirror.auth]
scheme = "header"
header = "X-Api-Key"
value = "planted-api-key-9c41d7"
[services.rabbitmq.auth]
scheme = "none"
''', encoding="utf-8")
    auth = Auth(settings.load(start=tmp_path, environ={}), project=None)

    seen = {service: requests.get(echo, headers=auth.headers(service), timeout=5).json()["headers"]
            for service in ("api", "mirror", "rabbitmq", "gateway")}

    assert seen["api"].get("Authorization") == f"Basic {BASIC}" and "X-Api-Key" not in seen["api"]
    assert seen["mirror"].get("X-Api-Key") == "planted-api-key-9c41d7" and "Authorization" not in seen["mirror"]
    assert "Authorization" not in seen["rabbitmq"] and "X-Api-Key" not in seen["rabbitmq"]
    assert seen["gateway"].get("Authorization") == f"Bearer {TOKEN}"  # [auth] for a service that names none


def test_every_unusable_auth_is_named_at_once_with_file_and_key(tmp_path):
    (tmp_path / "crucible.toml").write_text('''
[auth]
scheme = "basic"
username = "shop"
password = "${UNSET_PASSWORD}"
[services.api.auth]
scheme = "digest"
[services.mirror.auth]
scheme = "header"
header = "X-Api-Key"
value = ""
''', encoding="utf-8")

    with pytest.raises(SettingsError) as raised:
        settings.load(start=tmp_path, environ={})

    message = str(raised.value)
    assert "3 problems in the settings; nothing was started" in message, message
    assert "'services.api.auth.scheme' is 'digest'" in message
    assert "'services.mirror.auth.value' is empty" in message
    assert "'auth.password' is empty (it is '${UNSET_PASSWORD}')" in message
    assert message.count(str(tmp_path / "crucible.toml")) >= 3, message
