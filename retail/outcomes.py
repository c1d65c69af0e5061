"""Checks in business words: each raises AssertionError saying what was expected and what happened.

Example message: ``expected Alice's order to be confirmed, but it was rejected: payment declined
(card declined)``.
"""

from __future__ import annotations

import json
from typing import Callable

from crucible.vocabulary.security import ownership
from retail.money import Money, format_cents
from retail.shop import Answer, Order, Return

# Order states as features name them -> the platform's status.
STATES = {"confirmed": "confirmed", "returned": "returned", "partially returned": "partially_returned",
          "held for review": "held", "rejected": "rejected"}
CHARGED = {"captured", "partially_refunded", "refunded"}
OPEN = {"authorised", "pending_review"}


def _state(status: str) -> str:
    """A platform status in words (``partially_returned`` -> ``partially returned``)."""
    return status.replace("_", " ")


def _outcome(order: Order) -> str:
    """An order's outcome in words, with the HTTP status when no order was made."""
    text = order.outcome().replace(order.status, _state(order.status), 1)
    return text if order.id else f"{text} (HTTP {order.http_status})"


def expect_state(order: Order, state: str) -> None:
    """The order is in a state (confirmed, returned, partially returned, held for review, rejected)."""
    wanted = STATES[state]
    assert order.status == wanted, (
        f"expected {order.person}'s order to be {state}, but it was {_outcome(order)}")


def expect_rejected(order: Order, reason: str, detail: str | None = None) -> None:
    """The order was rejected for a reason (and a detail, e.g. 'card declined', if given)."""
    wanted = f'"{reason}"' + (f' ("{detail}")' if detail else "")
    assert order.status == "rejected" and order.reason == reason, (
        f"expected {order.person}'s order to be rejected because {wanted}, but it was {_outcome(order)}")
    if detail is not None:
        assert detail in [part.strip() for part in order.detail.split(",")], (
            f"expected {order.person}'s order to be rejected because {wanted}, but the detail was "
            f"\"{order.detail or 'empty'}\"")


def expect_held(order: Order, reason: str) -> None:
    """The order is held for a fraud review for a reason (the fraud check's words, e.g. 'amount over review threshold')."""
    assert order.status == "held", (
        f"expected {order.person}'s order to be held for review because \"{reason}\", "
        f"but it was {_outcome(order)}")
    assert reason in order.detail, (
        f"expected {order.person}'s order to be held for review because \"{reason}\", "
        f"but it was held because \"{order.detail or order.reason}\"")


def expect_stock(actual: int, expected: int, store: str, product: str) -> None:
    """A store has the expected stock of a product."""
    assert actual == expected, (
        f"expected the '{store}' store to have {expected} '{product}', but it has {actual}")


def expect_charged(order: Order, payments: list[dict], amount: Money) -> None:
    """The order's card was charged exactly this amount, once."""
    charged = [p for p in payments if p.get("captured_cents")]
    assert len(charged) == 1 and charged[0]["captured_cents"] == amount.cents and (
        charged[0].get("currency") == amount.currency), (
        f"expected {order.person}'s card to be charged {amount} for the order, but "
        + (_payments(payments) if payments else "the payments service has no payment for it"))


def expect_nothing_charged(order: Order, payments: list[dict]) -> None:
    """Nothing was captured for the order; once it is rejected no authorisation is left open either."""
    captured = [p for p in payments if p.get("captured_cents") or p.get("status") in CHARGED]
    assert not captured, f"expected nothing to be charged to {order.person}'s card, but {_payments(captured)}"
    if order.status == "rejected":
        left_open = [p for p in payments if p.get("status") in OPEN]
        assert not left_open, (
            f"expected no payment to be left open for {order.person}'s rejected order, but {_payments(left_open)}")


def expect_refunded_once(order: Order, payments: list[dict], amount: Money) -> None:
    """The order's payment was refunded this amount, in exactly one refund."""
    refunds = [r for p in payments for r in p.get("refunds") or []]
    refunded = sum(p.get("refunded_cents") or 0 for p in payments)
    assert len(refunds) == 1 and refunded == amount.cents == refunds[0].get("amount_cents"), (
        f"expected {order.person}'s card to be refunded {amount} exactly once, but it was refunded "
        f"{format_cents(refunded, amount.currency)} in {len(refunds)} refund(s)"
        + (": " + ", ".join(format_cents(r.get("amount_cents"), amount.currency) for r in refunds) if refunds else ""))


def _payments(payments: list[dict]) -> str:
    """Payments in words: ``payment 1a2b is captured (25.00 EUR captured, 0.00 EUR refunded)``."""
    return "; ".join(
        f"payment {str(p.get('id'))[:8]} is {_state(str(p.get('status')))} "
        f"({format_cents(p.get('captured_cents') or 0, p.get('currency', 'EUR'))} captured, "
        f"{format_cents(p.get('refunded_cents') or 0, p.get('currency', 'EUR'))} refunded)" for p in payments)


def expect_fraud_decision(order: Order, decisions: list[dict], decision: str, reason: str | None) -> None:
    """The fraud check decided this on the order (approve, review, decline), for this reason."""
    assert decisions, f"expected the fraud check to {decision} {order.person}'s order, but it never screened it"
    latest = decisions[0]
    reasons = latest.get("reasons") or []
    assert latest.get("decision") == decision and (reason is None or reason in reasons), (
        f"expected the fraud check to {decision} {order.person}'s order"
        + (f" because \"{reason}\"" if reason else "")
        + f", but it decided to {latest.get('decision')}"
        + (f" because \"{', '.join(reasons)}\"" if reasons else " with no reason"))


def expect_return_accepted(ret: Return, refund: Money) -> None:
    """The return was accepted with this refund."""
    assert ret.accepted, (
        f"expected {ret.person}'s return to be accepted with a refund of {refund}, but it was refused: "
        f"{ret.reason} (HTTP {ret.http_status})")
    assert ret.refund_cents == refund.cents, (
        f"expected {ret.person}'s return to refund {refund}, but it refunded "
        f"{format_cents(ret.refund_cents, refund.currency)}")


def expect_return_refused(ret: Return, reason: str) -> None:
    """The return was refused for a reason."""
    assert not ret.accepted and ret.reason == reason, (
        f"expected {ret.person}'s return to be refused because \"{reason}\", but "
        + (f"it was accepted with a refund of {format_cents(ret.refund_cents)}" if ret.accepted
           else f"it was refused because \"{ret.reason}\" (HTTP {ret.http_status})"))


def expect_refused(answer: Answer | None, reason: str) -> None:
    """An operation was refused for a business reason (the platform's ``reason``)."""
    assert answer is not None, "no operation was attempted in this scenario"
    assert answer.http_status >= 400 and answer.reason == reason, (
        f"expected {answer.what} to be refused because \"{reason}\", but "
        + ("it was carried out" if answer.http_status < 400
           else f"it was refused because \"{answer.reason}\" (HTTP {answer.http_status})"))


def expect_forbidden(answer: Answer | None, person: str) -> None:
    """A person was refused an operation their role may not do."""
    assert answer is not None, "no operation was attempted in this scenario"
    assert answer.http_status == 403, (
        f"expected {person} to be refused because only store staff may do that, but {answer.what} "
        + ("was carried out" if answer.http_status < 400 else f"failed with: {answer.reason} "
                                                               f"(HTTP {answer.http_status})"))


def expect_not_found(answer: Answer | None, person: str) -> None:
    """A person was told an order does not exist."""
    assert answer is not None, "no look-up was made in this scenario"
    assert answer.http_status == 404, (
        f"expected {person} to be told there is no such order, but {answer.what} "
        + (f"showed the order (status {answer.body.get('status')}, customer {answer.body.get('customer')})"
           if answer.http_status == 200 else f"answered {answer.reason} (HTTP {answer.http_status})"))


def expect_learns_nothing(answer: Answer | None, person: str) -> None:
    """A person was refused something that is not theirs and got the answer a made-up id gets: no more."""
    assert answer is not None and answer.ask_about is not None, "no request about someone else's business was made"
    made_up = ownership.lookalike(answer.asked)
    missing = ownership.Seen.of(answer.ask_about(made_up), made_up)
    seen = ownership.Seen(answer.http_status, json.dumps(answer.body), answer.asked)
    ownership.expect_as_if_missing(seen, missing, answer.about, person)


def expect_only_own_orders(answer: Answer | None, person: str, customer: str, order_ids: list[str]) -> None:
    """A person's list of orders holds exactly their own orders."""
    assert answer is not None and answer.http_status == 200, (
        f"expected {person} to see {person}'s orders, but the list was refused: "
        f"{answer.reason if answer else 'no list was asked for'}")
    listed = answer.body.get("orders") or []
    others = sorted({o.get("customer") for o in listed if o.get("customer") != customer})
    assert not others, (f"expected {person} to see only {person}'s own orders, but the list also holds orders "
                        f"of {', '.join(others)}")
    missing = set(order_ids) - {o.get("id") for o in listed}
    assert not missing, (f"expected {person} to see all {len(order_ids)} of {person}'s orders, but "
                         f"{len(missing)} are missing from the list")


def availability_check(product: str, total: int, stores: dict[str, int] | None,
                       store_id: Callable[[str], str]) -> Callable[[dict | None], None]:
    """A check that chain-wide availability shows ``total`` (and ``stores``: display name -> quantity)."""
    def check(found: dict | None) -> None:
        assert found is not None, f"expected the chain to show {total} '{product}' available, but it knows none yet"
        shown = found.get("stores") or {}
        for store, quantity in (stores or {}).items():
            assert shown.get(store_id(store), 0) == quantity, (
                f"expected the chain to show {quantity} '{product}' at the '{store}' store, "
                f"but it shows {shown.get(store_id(store), 0)}")
        assert found.get("total") == total, (
            f"expected the chain to show {total} '{product}' available, but it shows {found.get('total')}")
    return check


def expect_answered_within(order: Order, seconds: float) -> None:
    """The shop answered the order within a time, whatever the answer."""
    assert order.seconds is not None and order.seconds <= seconds, (
        f"expected {order.person} to be answered within {seconds:g} seconds, but "
        + (f"the answer took {order.seconds:.1f} seconds ({_outcome(order)})" if order.seconds is not None
           else "the time of the answer is unknown"))
