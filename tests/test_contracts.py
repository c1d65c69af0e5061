"""Provider contracts without a stack: an exchange checked against a small OpenAPI document, and coverage."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests

from crucible import settings
from crucible.errors import ContractError, ContractViolation, SettingsError
from crucible.vocabulary.contracts.coverage import Coverage, collect, render
from crucible.vocabulary.contracts.openapi import Contract
from crucible.vocabulary.contracts.provider import ProviderContracts, enforced

ITEM = {"type": "object", "required": ["id", "status", "card"],
        "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["open", "closed"]},
                       "card": {"type": "object", "required": ["last4"],
                                "properties": {"last4": {"type": "string", "pattern": "^[0-9]{4}$"}}}}}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def json_response(status, schema):
    return {"description": str(status), "content": {"application/json": {"schema": schema}}}


DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "things", "version": "1"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/things/{thing_id}": {"get": {
            "parameters": [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": json_response(200, ITEM), "404": json_response(404, ERROR),
                          "401": json_response(401, ERROR)}}},
        "/things": {"post": {
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["quantity"], "properties": {"quantity": {"type": "integer"}}}}}},
            "responses": {"201": json_response(201, ITEM), "400": json_response(400, ERROR),
                          "4XX": json_response(400, ERROR)}}},
    },
}
GOOD = {"id": "t-1", "status": "open", "card": {"last4": "1881"}}


def exchange(method, path, status, body, *, sent=None, headers=None, content_type="application/json", base="/v1"):
    """A requests.Response as if the service had answered, with the request it answered."""
    request = requests.Request(method, f"http://127.0.0.1:8000{base}{path}", json=sent,
                               headers={"Authorization": "Bearer x", **(headers or {})}).prepare()
    response = requests.Response()
    response.status_code, response.request, response.url = status, request, request.url
    response.headers["Content-Type"] = content_type
    response._content = json.dumps(body).encode()
    return response


@pytest.fixture(scope="module")
def contract():
    return Contract("things", DOCUMENT, "things.yaml")


def test_an_exchange_the_document_allows_passes(contract):
    verdict = contract.check(exchange("GET", "/things/t-1", 200, GOOD))
    assert verdict.operation == "GET /things/{thing_id}"
    assert verdict.violations() == ("response", [])


def test_a_changed_type_and_a_removed_field_are_named_by_json_path(contract):
    body = {"id": "t-1", "state": "open", "card": {"last4": 1881}}
    verdict = contract.check(exchange("GET", "/things/t-1", 200, body))
    message = verdict.message()
    assert message.startswith("Contract violation: things GET /things/{thing_id} answered 200")
    assert "$.status: the document says a required field; the service sent nothing (the object has: card, id, " \
           "state)" in message
    assert "$.card.last4: the document says type string; the service sent 1881" in message


def test_an_undocumented_status_names_the_documented_ones(contract):
    verdict = contract.check(exchange("GET", "/things/t-1", 418, {"error": "teapot"}))
    side, problems = verdict.violations()
    assert side == "response"
    assert problems[0].render("the service sent") == "status: the document says one of 200, 404, 401; the " \
                                                     "service sent 418"


def test_a_wrong_content_type_is_a_violation(contract):
    verdict = contract.check(exchange("GET", "/things/t-1", 404, "<html>", content_type="text/html"))
    assert verdict.violations()[1][0].place == "Content-Type"


def test_a_deliberately_invalid_request_that_is_refused_is_recorded_not_failed(contract):
    verdict = contract.check(exchange("POST", "/things", 400, {"error": "quantity must be a number"},
                                      sent={"quantity": "five"}))
    assert verdict.deliberate
    assert verdict.violations() == ("response", [])
    assert "$.quantity: the document says type integer; the request had \"five\"" in verdict.note()


def test_the_refusal_of_an_invalid_request_must_still_be_documented(contract):
    verdict = contract.check(exchange("POST", "/things", 400, {"message": "no"}, sent={"quantity": "five"}))
    side, problems = verdict.violations()
    assert side == "response" and problems[0].place == "$.error"


def test_a_range_code_documents_every_status_in_it(contract):
    verdict = contract.check(exchange("POST", "/things", 409, {"error": "exists"}, sent={"quantity": "five"}))
    assert verdict.violations() == ("response", [])


def test_a_service_that_accepts_a_request_its_document_forbids_breaks_it(contract):
    verdict = contract.check(exchange("POST", "/things", 201, GOOD, sent={"count": 1}))
    side, problems = verdict.violations()
    assert side == "request"
    assert "accepted (201) a request its OpenAPI document does not allow" in verdict.message()
    assert problems[0].place == "$.quantity"


def test_a_missing_token_is_outside_the_document(contract):
    response = exchange("GET", "/things/t-1", 401, {"error": "missing bearer token"})
    del response.request.headers["Authorization"]
    verdict = contract.check(response)
    assert verdict.deliberate and verdict.request_problems[0].place == "Authorization"


def test_an_undocumented_path_answered_with_success_is_a_violation(contract):
    verdict = contract.check(exchange("GET", "/secret", 200, {}))
    assert verdict.operation is None
    assert verdict.violations()[0] == "request"
    assert contract.check(exchange("GET", "/secret", 404, {"error": "no route"})).violations()[1] == []


def test_the_query_string_does_not_hide_the_operation(contract):
    assert contract.operation("GET", "http://h:1/v1/things/t-1?expand=all#x") == "GET /things/{thing_id}"


def test_validators_reused_between_exchanges_judge_each_exchange_afresh(contract):
    # the schema validators, casters and found paths are made once per document: a bad body after good ones on
    # the same operation and URL is still caught, and a good one after it still passes
    bad = {"id": "t-1", "status": "lost", "card": {"last4": "1881"}}
    verdicts = [contract.check(exchange("GET", "/things/t-1", 200, body)) for body in (GOOD, GOOD, bad, GOOD)]
    assert [len(verdict.violations()[1]) for verdict in verdicts] == [0, 0, 1, 0]
    assert "$.status: the document says one of \"open\", \"closed\"" in verdicts[2].message()


def test_a_document_that_is_not_openapi_is_refused_naming_the_service():
    with pytest.raises(ContractError, match="'things' .*not a valid OpenAPI 3 document"):
        Contract("things", {"openapi": "3.0.3", "info": {}, "paths": {"/x": {"get": {}}}}, "things.yaml")


def test_provider_contracts_raise_and_count():
    contracts = ProviderContracts({"things": Contract("things", DOCUMENT, "things.yaml")})
    contracts.check("things", exchange("GET", "/things/t-1", 200, GOOD))
    with pytest.raises(ContractViolation, match=r"\$\.card\.last4"):
        contracts.check("things", exchange("GET", "/things/t-1", 200, {**GOOD, "card": {"last4": 1}}))
    contracts.check("things", exchange("GET", "/things/t-1", 200, {"broken": True}), enforce=False)
    assert contracts.check("legacy", exchange("GET", "/x", 200, {})) is None
    coverage = contracts.coverage
    assert coverage.exercised["things"]["GET /things/{thing_id}"] == Counter({"200": 3})
    assert coverage.violations["things"] == 1 and coverage.unchecked["legacy"] == 1


def test_coverage_is_added_up_across_processes_and_rendered(tmp_path):
    for statuses in (["200"], ["404", "200"]):
        one = Coverage()
        one.document("things", "served at /openapi.json", Contract("things", DOCUMENT, "").operations())
        for status in statuses:
            one.exercise("things", "GET /things/{thing_id}", int(status))
        one.write(tmp_path)
    total = collect(tmp_path)
    assert total.exercised["things"]["GET /things/{thing_id}"] == Counter({"200": 2, "404": 1})
    assert total.totals("things") == (1, 2, 2, 6)
    text = render(total)
    assert "things GET /things/{thing_id}" in text and "things POST /things" in text
    assert "things: 1 of 2 operations and 2 of 6 documented responses exercised" in text


def test_service_settings_are_checked(tmp_path):
    (tmp_path / "crucible.toml").write_text('[services.orders]\nopenapi = "/openapi.json"\nport = 8000\n')
    assert settings.load(start=tmp_path, environ={}).service("orders") == {"openapi": "/openapi.json", "port": 8000}
    (tmp_path / "crucible.toml").write_text('[services.orders]\nopenapi_url = "/openapi.json"\n')
    with pytest.raises(SettingsError, match="'services.orders.openapi_url'.*Did you mean 'openapi'"):
        settings.load(start=tmp_path, environ={})
    (tmp_path / "crucible.toml").write_text('[services.orders]\nport = "eight"\n')
    with pytest.raises(SettingsError, match="'services.orders.port' must be a whole number"):
        settings.load(start=tmp_path, environ={})


def test_switches_read_true_and_false_from_the_environment(tmp_path):
    assert settings.load(start=tmp_path, environ={"CRUCIBLE_CONTRACTS_CHECK": "false"})["contracts.check"] is False
    with pytest.raises(SettingsError, match="'contracts.check' must be true or false"):
        settings.load(start=tmp_path, environ={"CRUCIBLE_CONTRACTS_CHECK": "maybe"})


def test_a_scenario_tagged_no_contract_check_or_a_switched_off_run_is_not_checked(tmp_path):
    class Scenario:
        def __init__(self, *tags):
            self.effective_tags = set(tags)

    options = settings.load(start=tmp_path, environ={})
    assert enforced(options, Scenario("api")) is True
    assert enforced(options, Scenario("api", "no-contract-check")) is False
    assert enforced(settings.load(start=tmp_path, environ={"CRUCIBLE_CONTRACTS_CHECK": "false"}), Scenario()) is False


# --- one matcher: the operation counted for coverage is the one validation judges ----------------------------------

def test_coverage_and_validation_match_a_request_to_the_same_operation():
    # openapi-core matches /orders/mine (POST only) and then /orders/{order_id}, which has the GET; it tries every
    # server (/v1, /v2) and a path's own servers. A second matcher of templates named no operation for any of these.
    order = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    document = {
        "openapi": "3.0.3", "info": {"title": "orders", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1"}, {"url": "https://api.example.com/v2"}],
        "paths": {
            "/orders/mine": {"post": {"responses": {"201": json_response(201, order)}}},
            "/orders/{order_id}": {"get": {
                "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": json_response(200, order)}}},
            "/status": {"servers": [{"url": "https://legacy.example.com/old"}],
                        "get": {"responses": {"200": json_response(200, order)}}},
        },
    }
    contract = Contract("orders", document, "test")
    for path, operation in [("/v1/orders/mine", "GET /orders/{order_id}"), ("/v2/orders/o-1", "GET /orders/{order_id}"),
                            ("/old/status", "GET /status")]:
        response = exchange("GET", path, 200, {"id": "o-1"}, base="")
        assert contract.operation("GET", response.request.url) == operation, path
        verdict = contract.check(response)
        assert verdict.operation == operation and verdict.violations()[1] == [], (path, verdict.message())
    assert contract.operation("POST", "http://h:1/v2/orders/mine") == "POST /orders/mine"
    assert contract.operation("DELETE", "http://h:1/v1/orders/o-1") is None
    assert contract.operation("GET", "http://h:1/v3/orders/o-1") is None
