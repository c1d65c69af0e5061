"""Fraud screening: the blocklist, orders held for review, and the fraud team's decisions.

Every payment is screened before the card is charged: the fraud check approves it, holds the
order for a review by the fraud team, or declines it (amount, velocity, blocked card, blocked
issuer). Blocklist entries a scenario makes are removed when it ends; a blocked issuer range
(bank) is a fresh one that only that scenario's cards use.
"""

from behave import given, register_type, then, when

from retail import outcomes, wording

register_type(**wording.TYPES)


@given("{whose:Whose} card is on the blocklist")
def step_card_blocked(context, whose):
    """Example: Given Alice's card is on the blocklist"""
    context.add_cleanup(context.shop.unblock, context.shop.block_card(context.shop.person(whose)))


@given("cards from {whose:Whose} bank are on the blocklist")
def step_bank_blocked(context, whose):
    """Example: Given cards from Alice's bank are on the blocklist

    Alice gets a card from a new issuer range (BIN), and that whole range is blocked.
    """
    context.add_cleanup(context.shop.unblock, context.shop.block_bank(context.shop.person(whose)))


@given("{people:People} have cards from the same bank")
def step_same_bank(context, people):
    """Example: Given Alice, Bob, Carol and Dan have cards from the same bank

    Each gets a new card of their own, all from one issuer range (BIN) no other scenario uses.
    """
    context.shop.share_bank(people)


@given('{whose:Whose} order for {quantity:d} "{product}" from the "{store}" store is held for review')
def step_order_held_for_review(context, whose, quantity, product, store):
    """Example: Given Alice's order for 1 "Espresso Machine" from the "North" store is held for review

    The order must be held: otherwise the step fails, saying what happened instead.
    """
    outcomes.expect_state(context.shop.place_order(context.shop.person(whose), store, [(product, quantity)]),
                          "held for review")


@when("the fraud team {decision:Decision} {whose:Whose} order")
def step_fraud_team_decides(context, decision, whose):
    """Example: When the fraud team approves her order

    Or "declines". A member of store staff reviews the order the fraud check held.
    """
    context.shop.review(context.shop.order_of(whose), decision)


@then("the fraud check approves {whose:Whose} order")
def step_fraud_approves(context, whose):
    """Example: Then the fraud check approves her order"""
    order = context.shop.order_of(whose)
    outcomes.expect_fraud_decision(order, context.shop.decisions(order), "approve", None)


@then('the fraud check decides to {decision:w} {whose:Whose} order because "{reason}"')
def step_fraud_decides(context, decision, whose, reason):
    """Example: Then the fraud check decides to review her order because "amount over review threshold"

    Decisions: approve, review, decline; the reason is one of the fraud check's rules.
    """
    order = context.shop.order_of(whose)
    outcomes.expect_fraud_decision(order, context.shop.decisions(order), decision, reason)
