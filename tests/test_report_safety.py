"""Nothing secret in the report: what a secret looks like, and the search after every run, with planted secrets."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import jwt
import pytest

from crucible import cli, secrets
from crucible.errors import ReportError
from crucible.report import results as report
from crucible.report import safety
from crucible.report.safety import embedded_files
from crucible.stack import compose

needs_allure = pytest.mark.skipif(not report.allure_installed(), reason="the Allure CLI is missing: run crucible setup")

TOKEN = jwt.encode({"sub": "alice", "role": "customer", "exp": 4_000_000_000}, "planted-signing-key-0123456789abcdef",
                   algorithm="HS256")
CARD = "4539 1488 0343 6467"  # Luhn-valid
API_TOKEN = "planted-api-token-7f3a9c"
DB_PASSWORD = "planted-db-pw-4411"
PASSWORD = "hunter2-planted"
BEARER = "opaque0123456789abcdefXYZ"
PLANTED = [TOKEN, CARD, CARD.replace(" ", ""), API_TOKEN, DB_PASSWORD, PASSWORD, BEARER]
COMPOSE = f"""
name: shop
services:
  api:
    image: busybox
    environment:
      API_TOKEN: {API_TOKEN}
      DATABASE_URL: postgresql://shop:{DB_PASSWORD}@db:5432/shop
      LOG_LEVEL: INFO
  db:
    image: postgres
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: shop
"""


# --- what a secret looks like -----------------------------------------------------------------

def test_card_numbers_are_luhn_valid_runs_of_12_to_19_digits_and_not_times():
    known = secrets.Secrets()

    assert known.kinds(f"paid with {CARD}") == {secrets.CARD: 1}
    assert known.kinds("paid with 4539-1488-0343-6467 and 4539148803436467") == {secrets.CARD: 2}
    assert known.kinds("4539 1488 0343 6468") == {}  # fails the Luhn check
    assert known.kinds("order 1764150000000 at 1764150000000123") == {}  # ms and µs since 1970
    assert known.kinds("id 9f3a4539148803436467 and sku-4539148803436467") == {}  # part of a longer id
    assert known.kinds("cpu 0.4539148803436467 and 4539148803436467.5 percent") == {}  # decimal numbers
    assert known.redact(f"card {CARD}.") == "card ************6467."


def test_tokens_and_passwords_are_found_by_their_shape():
    known = secrets.Secrets()
    text = (f"Authorization: Bearer {TOKEN}\nX: Bearer {BEARER}\n{{\"password\": \"{PASSWORD}\", \"client_secret\": "
            f"\"***\"}}\ndsn=postgresql://shop:{DB_PASSWORD}@db/shop\nWWW-Authenticate: Bearer realm=\"crucible\"\n"
            f"missing bearer token; password: null")

    assert known.kinds(text) == {secrets.JWT: 1, secrets.BEARER: 1, secrets.PASSWORD: 2}
    redacted = known.redact(text)
    assert not any(secret in redacted for secret in PLANTED)
    assert 'Bearer realm="crucible"' in redacted and '"client_secret": "***"' in redacted


def test_a_token_signed_with_alg_none_is_a_token_too():
    unsigned = jwt.encode({"sub": "mallory", "role": "admin"}, None, algorithm="none")

    assert unsigned.endswith(".")
    assert secrets.Secrets().kinds(f"sent {unsigned} here") == {secrets.JWT: 1}


def test_the_stacks_secret_values_come_from_the_compose_file(tmp_path, caplog):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    project = compose.load([tmp_path / "compose.yaml"])

    with caplog.at_level(logging.WARNING):
        known = secrets.of_project(project)

    assert known.values == {"API_TOKEN of api": API_TOKEN, "the password in DATABASE_URL of api": DB_PASSWORD}
    # POSTGRES_PASSWORD "shop" is also the user's and the project's name: looking for it would find every name.
    assert "POSTGRES_PASSWORD of db" in caplog.text and "stronger value" in caplog.text
    assert known.kinds(f"config loaded: token={API_TOKEN}") == {"the value of API_TOKEN of api": 1}


# --- the search after every run -----------------------------------------------------------------

def planted_results(results: Path) -> None:
    """Results of one scenario whose attachments and texts carry planted secrets, and one clean scenario."""
    results.mkdir(parents=True)
    attachments = {
        "orders logs": f'{{"message": "request", "authorization": "Bearer {TOKEN}"}}\n',
        "POST /orders -> 201": f'POST /orders\n\n{{"card": {{"number": "{CARD}"}}, "password": "{PASSWORD}"}}\n',
        "api logs": f"starting with API_TOKEN={API_TOKEN} and db postgresql://shop:{DB_PASSWORD}@db/shop\n",
        "clean exchange": "GET /orders/1 -> 200\n{\"card\": {\"last4\": \"6467\"}}\n",
        ".text": f'{{"store": "north", "card": {{"number": "{CARD}"}}}}',  # a step's docstring: the feature's words
    }
    sources = []
    for name, text in attachments.items():
        source = f"{uuid.uuid4()}-attachment.txt"
        (results / source).write_text(text, encoding="utf-8")
        sources.append({"name": name, "source": source, "type": "text/plain"})
    leaky = {
        "uuid": str(uuid.uuid4()), "historyId": "leaky", "name": "Alice pays", "fullName": "Paying: Alice pays",
        "status": "failed", "start": 1_764_150_000_000, "stop": 1_764_150_000_100,
        "statusDetails": {"message": f"expected 201 with Bearer {BEARER}"},
        "labels": [{"name": "feature", "value": "Paying"}],
        "steps": [{"name": "When Alice pays", "status": "passed", "attachments": sources[:2],
                   "steps": [{"name": "nested", "status": "passed", "attachments": sources[2:3]}]}],
    }
    clean = {"uuid": str(uuid.uuid4()), "historyId": "clean", "name": "Bob looks", "fullName": "Paying: Bob looks",
             "status": "passed", "start": 1_764_150_000_000, "stop": 1_764_150_000_100,
             "labels": [{"name": "feature", "value": "Paying"}], "attachments": sources[3:4],
             "steps": [{"name": "When Bob pays with", "status": "passed", "attachments": sources[4:]}]}
    for result in (leaky, clean):
        (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")


def test_planted_secrets_are_named_by_attachment_and_kind_never_shown(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    planted_results(tmp_path / "results")
    known = secrets.of_project(compose.load([tmp_path / "compose.yaml"]))

    leaks = safety.scan_results(tmp_path / "results", known)

    found = {leak.place.split(" (")[0]: leak.kinds for leak in leaks}
    assert found == {
        "attachment 'orders logs' of 'Paying: Alice pays'": {secrets.JWT: 1},
        "attachment 'POST /orders -> 201' of 'Paying: Alice pays'": {secrets.CARD: 1, secrets.PASSWORD: 1},
        "attachment 'api logs' of 'Paying: Alice pays'": {
            # the URL's password has the shape of one too, but it is one secret, named by what it is
            "the value of API_TOKEN of api": 1, "the value of the password in DATABASE_URL of api": 1},
        "the result of 'Paying: Alice pays'": {secrets.BEARER: 1},
    }
    text = safety.message(leaks)
    assert not any(secret in text for secret in PLANTED)
    assert "Bob looks" not in text  # the card in a docstring of the feature is hidden, but is no finding


@needs_allure
def test_a_run_with_secrets_fails_as_an_environment_problem_and_its_report_shows_none(tmp_path, monkeypatch):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "crucible.toml").write_text('compose = ["compose.yaml"]\n')
    planted_results(tmp_path / "reports" / "allure-results")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRUCIBLE_SETTINGS", raising=False)

    with pytest.raises(ReportError) as failure:
        cli.make_report(cli.load_settings(), tmp_path / "reports" / "allure-results")

    message = str(failure.value)
    assert "attachment 'orders logs' of 'Paying: Alice pays'" in message and "a JWT" in message
    assert "the value of API_TOKEN of api" in message
    assert not any(secret in message for secret in PLANTED)
    html = (tmp_path / "reports" / "allure-report" / "index.html").read_text(encoding="utf-8")
    embedded = "\n".join(embedded_files(html).values())
    assert not any(secret in html or secret in embedded for secret in PLANTED)
    assert "************6467" in embedded  # the card, down to its last four digits
    tests = [json.loads(body) for path, body in embedded_files(html).items() if path.startswith("data/test-results/")]
    safety_result = [t for t in tests if t["name"] == "Nothing secret in the report"]
    assert [t["status"] for t in safety_result] == ["broken"]
    assert [c["name"] for c in safety_result[0]["categories"]] == ["Environment problems"]


@needs_allure
def test_crucible_report_exits_non_zero_naming_the_attachment(tmp_path, monkeypatch, capfd):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "crucible.toml").write_text('compose = ["compose.yaml"]\n')
    planted_results(tmp_path / "reports" / "allure-results")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRUCIBLE_SETTINGS", raising=False)

    status = cli.main(["report"])

    output = capfd.readouterr()
    assert status == 2
    assert "attachment 'POST /orders -> 201' of 'Paying: Alice pays'" in output.err
    assert "a card number, a password" in output.err
    assert not any(secret in output.err + output.out for secret in PLANTED)


def test_a_rendered_page_that_still_shows_a_secret_is_removed(tmp_path):
    index = tmp_path / "index.html"
    index.write_text('<html><script>d("data/attachments/1.txt","' + __import__("base64").b64encode(
        f"token {TOKEN}".encode()).decode() + '")</script></html>')

    with pytest.raises(ReportError, match=r"the report's data/attachments/1.txt: a JWT"):
        safety.check_page(index, secrets.Secrets())

    assert not index.exists()
