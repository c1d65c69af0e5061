"""The shop's pure helpers: test cards (Luhn), money, the typed words of the steps, and the
business-worded checks of orders, returns, events and logs."""

import json
import random

import pytest
from behave.model import Table

from retail import announcements, cards, outcomes, traces, wording
from crucible.errors import TestDataError
from crucible.vocabulary.messaging import Event
from retail.money import Money, format_cents
from retail.shop import Answer, Names, Order, Return, slug

CARD = "4539578763621486"


# --- cards ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body, digit", [("7992739871", "3"), ("453957876362148", "6"), ("0", "0"),
                                         ("411111111111111", "1")])
def test_luhn_check_digit_of_known_numbers(body, digit):
    assert cards.luhn_check_digit(body) == digit


def test_luhn_validity_ignores_spaces_and_dashes():
    assert cards.is_luhn_valid("4539 5787 6362 1486")
    assert cards.is_luhn_valid("4539-5787-6362-1486")
    assert not cards.is_luhn_valid("4539578763621487")
    assert not cards.is_luhn_valid("45395787636214x6")


def test_generated_cards_are_valid_unique_and_never_declining():
    rng = random.Random(7)
    numbers = [cards.card_number(rng=rng) for _ in range(2000)]
    assert all(len(n) == 16 and n.startswith("4") and cards.is_luhn_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert not [n for n in numbers if n[-4:] in cards.DECLINING_ENDINGS]


@pytest.mark.parametrize("ending", [cards.DECLINED, cards.INSUFFICIENT_FUNDS, "7", "1234"])
def test_a_card_with_a_chosen_ending_is_luhn_valid(ending):
    rng = random.Random(ending)
    for _ in range(50):
        number = cards.card_number(ending=ending, rng=rng)
        assert number.endswith(ending) and len(number) == 16 and cards.is_luhn_valid(number)


def test_a_card_with_a_chosen_bin():
    number = cards.card_number(bin="912345")
    assert cards.bin_of(number) == "912345" and cards.is_luhn_valid(number)
    assert cards.random_bin(cards.BLOCKABLE_PREFIX).startswith("9")
    assert len(cards.random_bin()) == 6


def test_a_bad_ending_is_refused():
    with pytest.raises(TestDataError):
        cards.card_number(ending="12a4")


def test_occurrences_find_plain_and_grouped_numbers_but_not_longer_runs():
    text = f'{{"n": "{CARD}"}} then 4539 5787 6362 1486 and 4539-5787-6362-1486 but not 9{CARD}1'
    assert len(cards.occurrences(CARD, text)) == 3
    assert cards.occurrences(CARD, "************1486") == []
    assert cards.last4(CARD) == "1486" and cards.bin_of(CARD) == "453957"


# --- money and words -----------------------------------------------------------------------

@pytest.mark.parametrize("text, cents, currency", [("12.50 EUR", 1250, "EUR"), ("7 USD", 700, "USD"),
                                                   ("0.5 EUR", 50, "EUR"), ("2000.00 EUR", 200000, "EUR")])
def test_money_is_parsed_to_cents(text, cents, currency):
    assert Money.parse(text) == Money(cents, currency)


@pytest.mark.parametrize("text", ["12,50 EUR", "12.505 EUR", "EUR 12", "12.50", "-1 EUR"])
def test_money_that_is_not_an_amount_is_refused(text):
    with pytest.raises(TestDataError, match="12.50 EUR"):
        Money.parse(text)


def test_money_reads_like_a_price():
    assert str(Money(1250)) == "12.50 EUR"
    assert str(Money(1250).times(3)) == "37.50 EUR"
    assert format_cents(5) == "0.05 EUR" and format_cents(-250, "USD") == "-2.50 USD"
    assert format_cents(None) == "nothing"


def test_names_are_unique_per_scenario_and_readable():
    names = Names("ab12cd34")
    assert names.store("North") == "north-ab12cd34"
    assert names.sku("Blue Mug") == "blue-mug-ab12cd34"
    assert names.customer("Alice") == "alice-ab12cd34"
    assert names.staff() == "staff-ab12cd34"
    assert slug("  Espresso  Machine! ") == "espresso-machine"


def test_pronouns_and_names():
    assert wording.whose("Alice's") == "Alice" and wording.whose("her") is None
    assert wording.who("Bob") == "Bob" and wording.who("she") is None
    assert wording.seconds("1 second") == 1.0 and wording.seconds("2.5 seconds") == 2.5
    assert wording.decision("approves") == "approve" and wording.decision("declines") == "decline"
    assert wording.money("12.50 EUR") == Money(1250)
    assert wording.names("orders, inventory, payments and fraud") == ["orders", "inventory", "payments", "fraud"]


def test_tables_are_checked_for_their_columns():
    table = Table(["product", "quantity"], rows=[["Blue Mug", "2"], ["Red Kettle", "1"]])
    assert wording.items(table) == [("Blue Mug", 2), ("Red Kettle", 1)]
    with pytest.raises(TestDataError, match=r"\| store \| product \| quantity \|"):
        wording.rows(table, "store", "product", "quantity")
    with pytest.raises(TestDataError, match="whole numbers"):
        wording.items(Table(["product", "quantity"], rows=[["Blue Mug", "two"]]))
    assert wording.quantity("+4") == 4 and wording.quantity("-2") == -2


# --- orders, payments, returns -------------------------------------------------------------

def order(**body):
    return Order("Alice", 422 if body.get("status") == "rejected" else 201, body, "crucible-x-001", CARD)


def test_a_rejected_order_is_explained_in_business_words():
    rejected = order(id="o1", status="rejected", reason="payment declined", detail="card declined")
    with pytest.raises(AssertionError) as failure:
        outcomes.expect_state(rejected, "confirmed")
    assert str(failure.value) == ("expected Alice's order to be confirmed, but it was rejected: "
                                  "payment declined (card declined)")
    outcomes.expect_rejected(rejected, "payment declined", "card declined")


def test_a_rejection_detail_is_one_of_the_reasons_given():
    rejected = order(id="o1", status="rejected", reason="fraud declined", detail="velocity, blocked card")
    outcomes.expect_rejected(rejected, "fraud declined", "blocked card")
    with pytest.raises(AssertionError, match='the detail was "velocity, blocked card"'):
        outcomes.expect_rejected(rejected, "fraud declined", "blocked bin")
    with pytest.raises(AssertionError, match="but it was rejected: fraud declined"):
        outcomes.expect_rejected(rejected, "payment declined")


def test_an_order_that_was_never_made_shows_the_http_status():
    refused = Order("Bob", 400, {"error": "card.number is not a valid card number"}, "r", CARD)
    with pytest.raises(AssertionError, match=r"it was not accepted: card.number is not .* \(HTTP 400\)"):
        outcomes.expect_state(refused, "confirmed")


def test_states_read_as_words():
    outcomes.expect_state(order(id="o", status="partially_returned"), "partially returned")
    with pytest.raises(AssertionError, match="to be returned, but it was partially returned"):
        outcomes.expect_state(order(id="o", status="partially_returned"), "returned")
    with pytest.raises(AssertionError, match="held for review because \"amount over limit\", but it was held "
                                             "because \"amount over review threshold\""):
        outcomes.expect_held(order(id="o", status="held", reason="fraud review",
                                   detail="amount over review threshold"), "amount over limit")


def payment(status, captured=0, refunded=0, refunds=()):
    return {"id": "p1234567-x", "status": status, "captured_cents": captured, "refunded_cents": refunded,
            "currency": "EUR", "refunds": [{"amount_cents": r} for r in refunds]}


def test_charges_and_refunds():
    confirmed = order(id="o", status="confirmed")
    outcomes.expect_charged(confirmed, [payment("captured", 2500)], Money(2500))
    with pytest.raises(AssertionError, match=r"charged 30.00 EUR .* payment p1234567 is captured "
                                             r"\(25.00 EUR captured"):
        outcomes.expect_charged(confirmed, [payment("captured", 2500)], Money(3000))
    with pytest.raises(AssertionError, match="has no payment"):
        outcomes.expect_charged(confirmed, [], Money(2500))
    outcomes.expect_refunded_once(confirmed, [payment("refunded", 2500, 2500, [2500])], Money(2500))
    with pytest.raises(AssertionError, match=r"refunded 25.00 EUR exactly once, but it was refunded 50.00 EUR "
                                             r"in 2 refund\(s\): 25.00 EUR, 25.00 EUR"):
        outcomes.expect_refunded_once(confirmed, [payment("refunded", 2500, 5000, [2500, 2500])], Money(2500))


def test_nothing_charged_and_nothing_left_open_for_a_rejected_order():
    rejected = order(id="o", status="rejected", reason="payment declined")
    outcomes.expect_nothing_charged(rejected, [payment("declined")])
    outcomes.expect_nothing_charged(rejected, [])
    with pytest.raises(AssertionError, match="no payment to be left open .* is authorised"):
        outcomes.expect_nothing_charged(rejected, [payment("authorised")])
    with pytest.raises(AssertionError, match="expected nothing to be charged to Alice's card"):
        outcomes.expect_nothing_charged(rejected, [payment("captured", 100)])
    outcomes.expect_nothing_charged(order(id="o", status="held"), [payment("pending_review")])


def test_returns_and_refusals():
    accepted = Return("Alice", order(id="o"), 201, {"return": {"refund_cents": 2500}})
    outcomes.expect_return_accepted(accepted, Money(2500))
    with pytest.raises(AssertionError, match="refused because \"already returned\", but it was accepted"):
        outcomes.expect_return_refused(accepted, "already returned")
    refused = Return("Alice", order(id="o"), 409, {"error": "x", "reason": "not returnable"})
    with pytest.raises(AssertionError, match="but it was refused because \"not returnable\" \\(HTTP 409\\)"):
        outcomes.expect_return_refused(refused, "already returned")
    answer = Answer("the transfer", 409, {"reason": "not enough stock"})
    outcomes.expect_refused(answer, "not enough stock")
    with pytest.raises(AssertionError, match="the transfer to be refused .* but it was carried out"):
        outcomes.expect_refused(Answer("the transfer", 201, {}), "not enough stock")


def test_fraud_decisions():
    held = order(id="o", status="held")
    decisions = [{"decision": "review", "reasons": ["amount over review threshold"]}]
    outcomes.expect_fraud_decision(held, decisions, "review", "amount over review threshold")
    with pytest.raises(AssertionError, match="to decline .* but it decided to review because"):
        outcomes.expect_fraud_decision(held, decisions, "decline", "amount over limit")
    with pytest.raises(AssertionError, match="never screened it"):
        outcomes.expect_fraud_decision(held, [], "approve", None)


def test_availability_names_the_store_that_differs():
    check = outcomes.availability_check("Blue Mug", 6, {"North": 3}, lambda s: f"{s.lower()}-x")
    check({"total": 6, "stores": {"north-x": 3, "south-x": 3}})
    with pytest.raises(AssertionError, match="3 'Blue Mug' at the 'North' store, but it shows 5"):
        check({"total": 8, "stores": {"north-x": 5, "south-x": 3}})
    with pytest.raises(AssertionError, match="knows none yet"):
        check(None)


# --- events and logs -----------------------------------------------------------------------

def event(key, data, request_id="crucible-x-001", header="crucible-x-001"):
    return Event("retail.events", key, key, {"x-request-id": header},
                 {"id": f"e-{key}", "type": key, "request_id": request_id, "data": data})


def test_event_names_in_words():
    assert announcements.key_of("order confirmed") == "order.confirmed"
    assert announcements.key_of(" Stock  changed ") == "stock.changed"


def test_stock_change_rows():
    what, found = announcements.stock_change(Names("u1"), {"store": "North", "product": "Blue Mug",
                                                           "change": "-2", "quantity": "3", "cause": "reserve"})
    assert what == "a stock change of -2 'Blue Mug' at the 'North' store, leaving 3 (cause reserve)"
    data = {"store": "north-u1", "sku": "blue-mug-u1", "delta": -2, "quantity": 3, "cause": "reserve"}
    assert found(event("stock.changed", data))
    assert not found(event("stock.changed", {**data, "cause": "set"}))
    assert not found(event("stock.changed", {**data, "quantity": 4}))


def confirmed_order():
    result = order(id="o1", status="confirmed")
    result.asked = {"store": "north-u1", "currency": "EUR",
                    "items": [{"sku": "mug-u1", "quantity": 2, "unit_price_cents": 1250}]}
    return result


def test_an_order_event_must_describe_the_order():
    data = {"order_id": "o1", "customer": "alice-u1", "store": "north-u1", "total_cents": 2500, "currency": "EUR",
            "items": [{"sku": "mug-u1", "quantity": 2, "unit_price_cents": 1250}], "card_last4": "1486"}
    traces.expect_complete(event("order.confirmed", data), confirmed_order(), "alice-u1")
    with pytest.raises(AssertionError, match=r"the total is 2000 instead of 2500; the items .* are "
                                             r"\[\('mug-u1', 2, None\)\]"):
        traces.expect_complete(event("order.confirmed", {**data, "total_cents": 2000,
                                                         "items": [{"sku": "mug-u1", "quantity": 2}]}),
                               confirmed_order(), "alice-u1")
    traces.expect_last4_only(event("order.confirmed", data), confirmed_order())
    with pytest.raises(AssertionError, match="appears 1 time"):
        traces.expect_last4_only(event("order.confirmed", {**data, "note": CARD}), confirmed_order())
    with pytest.raises(AssertionError, match="but the last 4 digits, but it has the fields card_bin, card_last4"):
        traces.expect_last4_only(event("order.confirmed", {**data, "card_bin": "453957"}), confirmed_order())


def test_events_must_carry_the_request_id():
    mine = [event("order.placed", {"order_id": "o1"}), event("order.confirmed", {"order_id": "o1"})]
    traces.expect_request_id(mine, confirmed_order())
    wrong = mine + [event("payment.captured", {"order_id": "o1"}, header="other")]
    with pytest.raises(AssertionError, match="payment.captured \\(request id 'crucible-x-001', header 'other'\\)"):
        traces.expect_request_id(wrong, confirmed_order())


def test_log_lines_with_the_request_id():
    line = json.dumps({"request_id": "crucible-x-001", "message": "request completed"})
    logs = {"orders": f"starting\n{line}\n", "fraud": json.dumps({"request_id": None}) + "\n"}
    traces.expect_traced(logs, "crucible-x-001", ["orders"], "Alice")
    with pytest.raises(AssertionError, match=r"missing from the fraud service \(1 JSON log lines"):
        traces.expect_traced(logs, "crucible-x-001", ["orders", "fraud"], "Alice")


def test_a_leaked_card_number_is_reported_masked():
    places = {"payments logs": f'{{"body": {{"card": {{"number": "{CARD}"}}}}}}', "orders logs": "****1486"}
    with pytest.raises(AssertionError) as failure:
        traces.expect_no_card(CARD, places, "Alice", "log line")
    message = str(failure.value)
    assert "appears 1 time(s)" in message and "payments logs" in message and "<card ending 1486>" in message
    assert CARD not in message
    traces.expect_no_card(CARD, {"orders logs": "************1486"}, "Alice", "log line")


class FakeLog(announcements.EventLog):
    """An event log whose queue is a list (no broker)."""

    def __init__(self, events):
        super().__init__(lambda: "amqp://x", "q", "u1")
        self.events = events

    def drain(self):
        return self.events

    def _sleep(self, seconds):
        pass


def test_expecting_several_events_names_the_missing_ones():
    log = FakeLog([event("order.placed", {"order_id": "o1"})])
    wanted = [(name, lambda e, key=announcements.key_of(name): e.routing_key == key)
              for name in ("order placed", "order confirmed")]
    with pytest.raises(AssertionError, match=r"expected 2 event\(s\) for Alice's order to be published, but 1 "
                                             r"did not arrive: order confirmed"):
        log.expect_each(wanted, 0.01, about=" for Alice's order")
    log.events.append(event("order.confirmed", {"order_id": "o1"}))
    assert [e.routing_key for e in log.expect_each(wanted, 0.01)] == ["order.placed", "order.confirmed"]
    assert log.found().routing_key == "order.confirmed"
    assert announcements.a("order placed") == "an 'order placed'" and announcements.a("stock changed") == "a 'stock changed'"


def test_privacy_checks():
    listed = Answer("Alice's list of orders", 200, {"orders": [{"id": "o1", "customer": "alice-u1"},
                                                                {"id": "o2", "customer": "bob-u1"}]})
    with pytest.raises(AssertionError, match="the list also holds orders of bob-u1"):
        outcomes.expect_only_own_orders(listed, "Alice", "alice-u1", ["o1"])
    own = Answer("Alice's list of orders", 200, {"orders": [{"id": "o1", "customer": "alice-u1"}]})
    outcomes.expect_only_own_orders(own, "Alice", "alice-u1", ["o1"])
    with pytest.raises(AssertionError, match="see all 2 of Alice's orders, but 1 are missing"):
        outcomes.expect_only_own_orders(own, "Alice", "alice-u1", ["o1", "o3"])
    with pytest.raises(AssertionError, match="expected Alice to be refused because only store staff may do that, "
                                             "but Alice's change of the stock was carried out"):
        outcomes.expect_forbidden(Answer("Alice's change of the stock", 200, {}), "Alice")
    with pytest.raises(AssertionError, match="showed the order \\(status confirmed, customer bob-u1\\)"):
        outcomes.expect_not_found(Answer("Alice's look-up of Bob's order", 200,
                                         {"status": "confirmed", "customer": "bob-u1"}), "Alice")
