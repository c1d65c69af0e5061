"""Consumer-driven contracts without a stack: expectations, Pact's mock server, pact files, states, the matrix."""

from __future__ import annotations

import json

import pytest

from crucible import settings
from crucible.errors import ContractError, TestDataError
from crucible.vocabulary.contracts import deploy, expectations, pacts
from crucible.vocabulary.contracts.pacts import ConsumerContract, Expectation, StalePact
from crucible.vocabulary.contracts.states import States

UUID = "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
ROWS = [["id", UUID, "any UUID"], ["status", "reserved", "exactly"], ["items", '{"sku": "mug", "quantity": 2}',
        "each like"], ["card.last4", "1881", "matching ^[0-9]{4}$"], ["quantity", "5", "like this"]]


def options_in(tmp_path, update=False):
    (tmp_path / "crucible.toml").write_text(f'[report]\nresults = "results"\n[pact]\nfolder = "pacts"\n'
                                            f'update = {"true" if update else "false"}\n')
    return settings.load(start=tmp_path, environ={})


def encoded(body) -> dict:
    """A body with matchers as pact-python sends it to the Pact core."""
    from pact.match.matcher import IntegrationJSONEncoder
    return json.loads(json.dumps(body, cls=IntegrationJSONEncoder))


def test_a_table_becomes_a_body_of_examples_and_matchers():
    body = expectations.from_table(["field", "example", "match"], ROWS, "step")

    assert expectations.examples(body) == {"id": UUID, "status": "reserved", "items": [{"sku": "mug", "quantity": 2}],
                                           "card": {"last4": "1881"}, "quantity": 5}
    sent = encoded(body)
    assert sent["status"] == "reserved"
    assert sent["id"]["pact:matcher:type"] == "regex"
    assert sent["items"]["pact:matcher:type"] == "type" and sent["card"]["last4"]["regex"] == "^[0-9]{4}$"


def test_json_markers_become_matchers_and_unknown_ones_are_named():
    body = expectations.from_json({"id": "@uuid@", "at": "@datetime@", "n": {"@like": 5},
                                   "items": {"@each like": {"sku": "mug"}}, "exact": "north"}, "step")
    assert expectations.examples(body) == {"id": UUID, "at": "2030-01-31T09:30:00.000Z", "n": 5,
                                           "items": [{"sku": "mug"}], "exact": "north"}
    with pytest.raises(TestDataError, match="step: the marker @array@ has no meaning in a pact"):
        expectations.from_json({"items": "@array@"}, "step")


def test_a_table_with_other_columns_or_an_unknown_word_is_refused_naming_the_step():
    with pytest.raises(TestDataError, match=r"step X needs a table with the columns \| field \| example \| match \|"):
        expectations.from_table(["name", "value"], [["a", "b"]], "step X")
    with pytest.raises(TestDataError, match="step X, field 'id': unknown match 'roughly'"):
        expectations.from_table(["field", "example", "match"], [["id", "1", "roughly"]], "step X")


def reservation(expectation_id="order-1") -> Expectation:
    expectation = Expectation("orders", "inventory")
    expectation.given("a store has stock of a product", {"store": "north", "sku": "mug", "quantity": 5})
    expectation.sends("POST", "/reservations", {"order_id": expectation_id, "store": "north",
                                               "items": [{"sku": "mug", "quantity": 2}]})
    return expectation


def body():
    return expectations.from_table(["field", "example", "match"], ROWS[:2], "step")


def test_the_mock_server_answers_the_example_and_the_pact_file_is_written(tmp_path):
    options = options_in(tmp_path, update=True)

    answer = ConsumerContract(options, "Stock is reserved").answer(reservation(), 201, body())

    assert answer.status_code == 201 and answer.json() == {"id": UUID, "status": "reserved"}
    written = pacts.read(tmp_path / "results" / "pacts" / "orders-inventory.json")
    interaction = pacts.interactions(written)["Stock is reserved"]
    assert written["metadata"]["pactSpecification"]["version"] == "4.0"
    assert interaction["providerStates"] == [{"name": "a store has stock of a product",
                                              "params": {"quantity": 5, "sku": "mug", "store": "north"}}]
    assert interaction["response"]["matchingRules"]["body"]["$.id"]["matchers"][0]["match"] == "regex"


def test_a_scenario_fails_while_the_committed_pact_is_missing_or_differs(tmp_path):
    with pytest.raises(StalePact, match=r"pacts/orders-inventory.json is missing.*Run `crucible pacts`"):
        ConsumerContract(options_in(tmp_path), "Stock is reserved").answer(reservation(), 201, body())
    (tmp_path / "pacts").mkdir()
    (tmp_path / "pacts" / "orders-inventory.json").write_text(
        (tmp_path / "results" / "pacts" / "orders-inventory.json").read_text())
    (tmp_path / "results" / "pacts" / "orders-inventory.json").unlink()
    ConsumerContract(options_in(tmp_path), "Stock is reserved").answer(reservation(), 201, body())
    (tmp_path / "results" / "pacts" / "orders-inventory.json").unlink()

    with pytest.raises(StalePact, match="'Stock is reserved' differs from the one in .*orders-inventory.json"):
        ConsumerContract(options_in(tmp_path), "Stock is reserved").answer(reservation("order-9"), 201, body())


def test_a_whole_run_also_finds_interactions_no_scenario_writes_any_more(tmp_path):
    options = options_in(tmp_path, update=True)
    ConsumerContract(options, "Stock is reserved").answer(reservation(), 201, body())
    ConsumerContract(options, "Stock is reserved again").answer(reservation("order-2"), 201, body())
    assert pacts.update_folder(options) == [tmp_path / "pacts" / "orders-inventory.json"]
    assert pacts.check_folder(options) == []

    generated = tmp_path / "results" / "pacts" / "orders-inventory.json"
    pact = pacts.read(generated)
    pact["interactions"] = pact["interactions"][:1]
    generated.write_text(json.dumps(pact))
    assert pacts.check_folder(options) == [
        f"'Stock is reserved again' is in {tmp_path / 'pacts' / 'orders-inventory.json'} but no scenario wrote it"]


def test_a_provider_state_value_goes_into_the_replayed_path_and_body():
    expectation = Expectation("orders", "inventory")
    expectation.given("a reservation exists", {})
    expectation.provides("reservation_id", UUID)
    expectation.sends("POST", f"/reservations/{UUID}/confirm", {"reservation": UUID})

    assert expectation.generators() == {
        "path": {"type": "ProviderState", "dataType": "STRING", "expression": "/reservations/${reservation_id}/confirm"},
        "body": {"$.reservation": {"type": "ProviderState", "expression": "${reservation_id}"}}}


def test_a_message_interaction_is_checked_by_the_consumer_and_written_with_its_routing_key(tmp_path):
    expectation = Expectation("availability", "inventory", messages=True)
    expectation.given("a store's stock of a product is set", {"store": "north"})
    expectation.message = "stock.changed"
    message = expectations.from_table(["field", "example", "match"], [["data.quantity", "5", "like this"]], "step")

    received = ConsumerContract(options_in(tmp_path, update=True), "A stock change").receive(expectation, message)

    assert received == {"data": {"quantity": 5}}
    interaction = pacts.interactions(pacts.read(tmp_path / "results" / "pacts" / "availability-inventory.json"))[
        "A stock change"]
    assert interaction["type"] == "Asynchronous/Messages"
    assert interaction["metadata"]["routing_key"] == "stock.changed"


def test_states_are_scenarios_whose_steps_are_given_back_as_gherkin(tmp_path):
    path = tmp_path / "inventory.feature"
    path.write_text('Feature: states\n  Background:\n    Given I am authenticated as "x" with the role "staff"\n\n'
                    '  Scenario: a store has stock\n    When I send a PUT request to "inventory" at "/stock/{store}/'
                    '{sku}" with JSON:\n      """\n      {"quantity": {quantity}}\n      """\n'
                    '    Then the response status is 200\n')
    states = States("inventory", path)

    assert states.text("a store has stock") == ('Given I am authenticated as "x" with the role "staff"\n'
                                                'When I send a PUT request to "inventory" at "/stock/{store}/{sku}" '
                                                'with JSON:\n"""\n{"quantity": {quantity}}\n"""\n'
                                                'Then the response status is 200')
    with pytest.raises(ContractError, match=r"provider state 'no stock' of 'inventory', which .*inventory.feature "
                                            r"does not set up .* States there: 'a store has stock'"):
        states.text("no stock")


def test_the_matrix_says_who_can_deploy(tmp_path):
    folder, results = tmp_path / "pacts", tmp_path / "results"
    folder.mkdir(), results.mkdir()
    for consumer, provider in (("orders", "inventory"), ("orders", "payments"), ("payments", "fraud")):
        (folder / f"{consumer}-{provider}.json").write_text(json.dumps(
            {"consumer": {"name": consumer}, "provider": {"name": provider}, "interactions": [{}, {}]}))
    (results / "crucible-pact-verification-1-a.json").write_text(json.dumps(
        {"provider": "inventory", "pairs": {"orders": {"interactions": 2, "failed": 0}}}))
    (results / "crucible-pact-verification-1-b.json").write_text(json.dumps(
        {"provider": "payments", "pairs": {"orders": {"interactions": 2, "failed": 1}}}))

    text = deploy.render(deploy.load(folder, results))

    assert "  orders               -             verified   failing (1 of 2)" in text, text
    assert "  payments             not verified  -          -" in text, text
    assert "consumer orders: cannot deploy (orders->payments failing)" in text
    assert "provider inventory: can deploy (every pact verified)" in text
    assert "provider fraud: cannot deploy (payments->fraud not verified)" in text
