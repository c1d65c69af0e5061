"""The security vocabulary's parts that need no stack: contracts, tokens, ids, judging answers, the audit's rules."""

from __future__ import annotations

import base64
import json
from collections import Counter
from types import SimpleNamespace

import jwt
import pytest

from crucible import secrets, settings
from crucible.errors import SettingsError, TestDataError
from crucible.vocabulary.auth import Auth
from crucible.vocabulary.security import access, audit, contract, hostile, ownership
from crucible.vocabulary.security.probe import ALG_NONE, EXPIRED, NO_TOKEN, OTHER_KEY, TAMPERED, Probe, tamper

SECRET = "a-signing-secret-of-32-bytes-or-more-0123"
DOCUMENT = {
    "openapi": "3.0.3",
    "security": [{"bearerAuth": []}],
    "paths": {
        "/health": {"get": {"security": [], "responses": {}}},
        "/orders": {"post": {"x-roles": ["customer", "staff"], "requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/OrderRequest"}}}}, "responses": {}}},
        "/orders/{order_id}": {
            "parameters": [{"name": "order_id", "in": "path", "required": True}],
            "get": {"x-roles": ["customer", "staff", "service"], "responses": {},
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True},
                                   {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                                   {"name": "fields", "in": "query", "schema": {"type": "string"}}]},
            "delete": {"operationId": "cancelOrder", "responses": {}}},
    },
    "components": {"schemas": {
        "OrderRequest": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "required": ["sku"], "properties": {
                "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}}}},
            "kind": {"type": "string", "enum": ["standard", "express"]}}}]},
        "Base": {"type": "object", "properties": {"store": {"type": "string"}}},
    }},
}


def orders() -> contract.Contract:
    return contract.parse("orders", DOCUMENT, "orders.json")


# --- the contract ------------------------------------------------------------------------------

def test_operations_their_roles_and_public_ones_are_read():
    found = {op.name: op.roles for op in orders().operations}

    assert found == {"GET /health": None, "POST /orders": ("customer", "staff"),
                     "GET /orders/{order_id}": ("customer", "staff", "service"), "DELETE /orders/{order_id}": ()}
    assert orders().roles() == ["customer", "staff", "service"]


def test_string_fields_come_from_path_query_and_the_resolved_body():
    fields = [str(f) for f in orders().operation("GET /orders/{order_id}").fields()]
    assert fields == ["path order_id", "query fields"]
    body = {f.name: f.kind for f in orders().operation("POST /orders").fields()}
    assert body == {"store": "string", "items[0].sku": "string", "items[0].quantity": "integer", "kind": "string"}


def test_an_operation_is_named_by_method_and_path_or_its_id_and_a_typo_gets_the_closest():
    assert orders().operation("post /orders").name == "POST /orders"
    assert orders().operation("cancelOrder").method == "DELETE"
    with pytest.raises(TestDataError, match=r"no operation 'GET /order/\{order_id\}'; did you mean GET /orders/"):
        orders().operation("GET /order/{order_id}")


def test_a_role_the_contract_never_names_is_refused():
    orders().check_role("service")
    with pytest.raises(TestDataError, match=r"names the role 'admin'; its roles are: customer, staff, service"):
        orders().check_role("admin")


def test_a_document_without_paths_is_not_a_contract():
    with pytest.raises(TestDataError, match="not an OpenAPI document"):
        contract.parse("orders", {"swagger": "2.0"}, "x.json")


def test_examples_hold_the_required_fields_and_the_one_under_attack():
    schema = orders().operation("POST /orders").body
    assert contract.example(schema, "X") == {}
    assert contract.example(schema, "X", "items[0].sku") == {"items": [{"sku": "X"}]}
    assert contract.example(schema, "X", "kind") == {"kind": "standard"}



def test_an_all_of_schema_keeps_the_required_fields_of_every_branch():
    document = {"paths": {"/returns": {"post": {"x-roles": ["customer"], "requestBody": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}}, "responses": {}}}},
        "components": {"schemas": {
            "Base": {"type": "object", "required": ["store"], "properties": {"store": {"type": "string"}}},
            "Return": {"allOf": [{"$ref": "#/components/schemas/Base"},
                                 {"type": "object", "required": ["order_id", "address"], "properties": {
                                     "order_id": {"type": "string"}, "note": {"type": "string"},
                                     "address": {"type": "object", "required": ["city"],
                                                 "properties": {"city": {"type": "string"}}}}},
                                 {"required": ["reason"], "properties": {"reason": {"type": "string",
                                                                                    "enum": ["damaged"]},
                                                                         "address": {"required": ["zip"],
                                                                                     "properties": {"zip": {
                                                                                         "type": "string"}}}}}],
                       "required": ["channel"], "properties": {"channel": {"type": "string"}}}}}}
    body = contract.parse("shop", document, "shop.json").operation("POST /returns").body
    assert contract.example(body, "X") == {"store": "X", "order_id": "X", "address": {"city": "X", "zip": "X"},
                                           "reason": "damaged", "channel": "X"}
    assert contract.example(body, "X", "note") == {**contract.example(body, "X"), "note": "X"}

# --- tokens ----------------------------------------------------------------------------------

def probe(tmp_path) -> Probe:
    (tmp_path / "crucible.toml").write_text(f'compose = ["c.yaml"]\n[auth]\nscheme = "jwt"\nsecret = "{SECRET}"\n'
                                            f'roles = ["customer", "staff"]\n')
    options = settings.load(start=tmp_path, environ={})
    return Probe(stack=None, settings=options, auth=Auth(options, project=None), correlation_id="c-1", uid="u1")


def claims(header: dict) -> dict:
    token = header["Authorization"].split()[1]
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_every_role_a_contract_names_gets_a_valid_token(tmp_path):
    token = probe(tmp_path).as_role("service").headers["Authorization"].split()[1]

    assert jwt.decode(token, SECRET, algorithms=["HS256"])["role"] == "service"


def test_broken_tokens_are_broken_in_exactly_one_way(tmp_path):
    p = probe(tmp_path)

    assert p.defect(NO_TOKEN, "staff", "customer").headers == {}
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(p.defect(EXPIRED, "staff", "customer").headers["Authorization"][7:], SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(p.defect(OTHER_KEY, "staff", None).headers["Authorization"][7:], SECRET, algorithms=["HS256"])
    unsigned = p.defect(ALG_NONE, "staff", None).headers["Authorization"][7:]
    assert jwt.get_unverified_header(unsigned)["alg"] == "none" and unsigned.endswith(".")
    tampered = p.defect(TAMPERED, "staff", "customer").headers
    assert claims(tampered)["role"] == "staff"  # claims staff, but was signed for a customer
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered["Authorization"][7:], SECRET, algorithms=["HS256"])
    assert claims(p.defect(TAMPERED, "staff", None).headers)["sub"] == "someone-else-u1"


def test_tampering_keeps_header_and_signature():
    token = jwt.encode({"sub": "a", "role": "customer"}, SECRET, algorithm="HS256")

    changed = tamper(token, {"role": "admin"})

    assert changed.split(".")[0] == token.split(".")[0] and changed.split(".")[2] == token.split(".")[2]
    assert jwt.decode(changed, options={"verify_signature": False})["role"] == "admin"


def test_the_checks_need_signed_tokens(tmp_path):
    (tmp_path / "crucible.toml").write_text('compose = ["c.yaml"]\n')
    options = settings.load(start=tmp_path, environ={})
    p = Probe(stack=None, settings=options, auth=Auth(options, project=None), correlation_id="c", uid="u")

    with pytest.raises(SettingsError, match='set auth.scheme = "jwt"'):
        p.as_role("staff")


# --- the matrix ----------------------------------------------------------------------------------

def test_the_matrix_expects_admission_for_named_roles_403_for_others_and_401_for_broken_tokens():
    op = orders().operation("POST /orders")

    expected = {who: verdict for who, verdict, _ in access.expected_cells(op, ["customer", "staff", "service"])}

    assert expected == {"customer": "admitted", "staff": "admitted", "service": "403", "no token": "401",
                        "expired token": "401", "token signed with another key": "401", "token with alg none": "401",
                        "token with a tampered claim": "401"}
    assert access.expected_cells(orders().operation("GET /health"), ["customer"]) == [("no token", "admitted", None)]


def test_a_disagreeing_cell_says_what_the_contract_wanted():
    cells = [access.Cell("POST /blocklist", "customer", access.FORBIDDEN, 400),
             access.Cell("POST /blocklist", "staff", access.ADMITTED, 400),
             access.Cell("POST /blocklist", "expired token", access.UNAUTHENTICATED, 200)]

    with pytest.raises(AssertionError) as failure:
        access.expect(cells, "fraud")

    assert str(failure.value).splitlines()[1:] == [
        "  POST /blocklist with customer: answered 400, but the contract says it must be refused with 403",
        "  POST /blocklist with expired token: answered 200, but the contract says it must be refused with 401"]
    assert access.table(cells).splitlines() == [
        "operation,customer,staff,expired token",
        "POST /blocklist,400 WRONG (expected 403),400 ok,200 WRONG (expected 401)"]


# --- hostile input ---------------------------------------------------------------------------------

def test_the_sweep_plans_every_payload_for_every_string_field_once():
    planned = hostile.plan(orders().operations)

    per_field = Counter(f"{op.name} {found}" for op, found, _, _ in planned)
    assert per_field == {"POST /orders body store": 10, "POST /orders body items[0].sku": 10,
                         "POST /orders body kind": 10, "GET /orders/{order_id} path order_id": 6,
                         "GET /orders/{order_id} query fields": 6}
    assert [number for *_, number in planned] == list(range(1, len(planned) + 1))


def test_an_answer_is_judged_without_the_value_that_was_sent():
    sent = "hx1r2z'); DROP TABLE users; --"

    assert hostile.judge(400, {}, json.dumps({"error": f"no sku {sent}"}), sent) == []
    assert hostile.judge(500, {}, '{"error": "internal server error"}', sent) == ["answered 500"]
    assert hostile.judge(400, {}, 'Traceback (most recent call last):\n  File "app.py", line 3', sent) == [
        "showed a stack trace"]
    assert hostile.judge(400, {}, 'psycopg2.errors.SyntaxError: syntax error at or near "DROP"', sent)[0].startswith(
        "showed database text")
    assert hostile.judge(200, {"X-Injected": "1"}, "{}", sent) == ["answered with the injected header X-Injected"]


# --- ownership --------------------------------------------------------------------------------------

def test_a_lookalike_id_has_the_same_shape_and_differs():
    real = "1fbda7ab-3c1e-4b8e-9f0a-2d6b1c9e7a55"

    made = ownership.lookalike(real)

    assert made != real and len(made) == len(real)
    assert [c for c in made if not c.isalnum()] == [c for c in real if not c.isalnum()]
    assert all(a.isdigit() == b.isdigit() for a, b in zip(made, real))


def test_learning_nothing_means_the_same_answer_as_for_a_missing_one():
    missing = ownership.Seen(404, '{"error": "order not found", "id": "b-2"}', "b-2")
    ownership.expect_as_if_missing(ownership.Seen(404, '{"id": "a-1", "error": "order not found"}', "a-1"),
                                   missing, "Bob's order", "Alice")
    with pytest.raises(AssertionError, match=r"expected Alice to learn nothing about Bob's order.*got 403"):
        ownership.expect_as_if_missing(ownership.Seen(403, '{"error": "not yours"}', "a-1"), missing,
                                       "Bob's order", "Alice")
    with pytest.raises(AssertionError, match=r"to get nothing of Bob's order, but the answer was 200"):
        ownership.expect_as_if_missing(ownership.Seen(200, '{"id": "a-1"}', "a-1"), missing, "Bob's order", "Alice")


# --- the audit ------------------------------------------------------------------------------------

def test_the_audit_keeps_findings_by_place_and_lets_the_settings_allow_some():
    found = audit.Audit(secrets.Secrets(), allow=["column payments.tokens.*"])
    found.saw_answer("orders", "GET /orders/1 -> 200", Counter({secrets.CARD: 1}), "Alice pays")
    found.saw_answer("orders", "GET /orders/1 -> 200", Counter({secrets.JWT: 2}), "Alice pays")
    found.saw_answer("auth", "POST /login -> 200", Counter(), "Alice logs in")
    found._keep(audit.Finding("column payments.tokens.value", Counter({secrets.JWT: 1})))

    with pytest.raises(AssertionError) as failure:
        found.expect_clean()

    assert found.answers == 3
    assert str(failure.value).splitlines()[1:] == [
        "  a JWT (2 times), a card number in the answer of orders to GET /orders/1 (in 'Alice pays')"]


def test_an_audit_that_could_not_record_events_is_an_environment_problem():
    broken = audit.Audit(secrets.Secrets(), tap_problem="events could not be recorded: broker down")

    with pytest.raises(Exception, match="incomplete: events could not be recorded") as failure:
        broken.expect_clean()

    assert not isinstance(failure.value, AssertionError)


def test_only_loopback_bindings_pass():
    bound = [audit.Binding("orders", "8000/tcp", "127.0.0.1", "32001"), audit.Binding("db", "5432/tcp", "::1", "1"),
             audit.Binding("fraud", "8000/tcp", "127.0.0.2", "32002")]  # every 127.0.0.0/8 address is loopback
    audit.expect_loopback(bound)

    with pytest.raises(AssertionError, match=r"but rabbitmq 15672/tcp is bound to 0.0.0.0:15672"):
        audit.expect_loopback(bound + [audit.Binding("rabbitmq", "15672/tcp", "0.0.0.0", "15672")])
    with pytest.raises(TestDataError, match="publishes no port"):
        audit.expect_loopback([])


def test_bindings_are_read_from_the_engines_view_of_every_container_of_the_run():
    container = SimpleNamespace(name="shop-1-orders", labels={"crucible.service": "orders"}, attrs={"NetworkSettings": {
        "Ports": {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32001"}], "9000/tcp": None}}})
    asked = {}

    def listing(filters):
        asked.update(filters)
        return [container]

    stack = SimpleNamespace(project=SimpleNamespace(name="shop"), run_id="r1",
                            client=SimpleNamespace(containers=SimpleNamespace(list=listing)))

    assert audit.bindings(stack) == [audit.Binding("orders", "8000/tcp", "127.0.0.1", "32001")]
    assert asked == {"label": ["crucible.project=shop", "crucible.run=r1"]}
