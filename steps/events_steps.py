"""Events and traces: what the shop announces to other systems, and how one order can be followed.

"the shop's events are being recorded" must come before the action: from then on every event
the services publish about the scenario is kept, also across a restart of the message broker.
Events are named in words: "order placed", "order confirmed", "stock changed", "fraud
screened", "payment authorised", "payment captured" ... "the event" is the one the latest
step found. Services are named as in the system's description: orders, inventory, payments,
fraud.
"""

from behave import given, register_type, then

from retail import announcements, traces, wording

register_type(**wording.TYPES)


@given("the shop's events are being recorded")
def step_record_events(context):
    """Example: Given the shop's events are being recorded"""
    announcements.for_scenario(context)


@then('within {seconds:Seconds} an "{event}" event is published for {whose:Whose} order')
@then('within {seconds:Seconds} a "{event}" event is published for {whose:Whose} order')
def step_order_event(context, seconds, event, whose):
    """Example: Then within 2 seconds an "order confirmed" event is published for her order"""
    order = context.shop.order_of(whose)
    announcements.recorded(context).expect(f"{announcements.a(event)} event for {order.person}'s order",
                                           traces.event_about(order, announcements.key_of(event)), seconds)


@then("within {seconds:Seconds} these events are published for {whose:Whose} order:")
def step_order_events(context, seconds, whose):
    """Example: Then within 2 seconds these events are published for her order:
        | event              |
        | order placed       |
        | payment captured   |
        | order confirmed    |
    """
    order = context.shop.order_of(whose)
    names = [row["event"] for row in wording.rows(context.table, "event")]
    traces.expect_order_events(announcements.recorded(context), order, names, seconds)


@then("within {seconds:Seconds} these stock changes are published:")
def step_stock_changes(context, seconds):
    """Example: Then within 2 seconds these stock changes are published:
        | store | product  | change | quantity |
        | North | Blue Mug | -2     | 3        |

    change is what moved (+4, -2), quantity the store's new stock; an optional cause column
    names why (set, reserve, release, expire, restock, return, transfer).
    """
    rows = wording.rows(context.table, "store", "product", "change", "quantity", optional=("cause",))
    announcements.recorded(context).expect_each(
        [announcements.stock_change(context.names, row) for row in rows], seconds)


@then("the event describes the order, the customer, the store, each item with its unit price, and the total")
def step_event_complete(context):
    """Example: Then the event describes the order, the customer, the store, each item with its unit price, and the total"""
    order = context.shop.order_of(None)
    traces.expect_complete(announcements.recorded(context).found(), order, context.names.customer(order.person))


@then("the event shows {whose:Whose} card only by its last 4 digits")
def step_event_last4(context, whose):
    """Example: Then the event shows her card only by its last 4 digits"""
    traces.expect_last4_only(announcements.recorded(context).found(), context.shop.order_of(whose))


@then("every event published for {whose:Whose} order carries the request id it was placed with")
def step_events_request_id(context, whose):
    """Example: Then every event published for her order carries the request id it was placed with"""
    traces.expect_request_id(announcements.recorded(context).drain(), context.shop.order_of(whose))


@then("within {seconds:Seconds} the {services} services each log {whose:Whose} order under its request id")
def step_services_log(context, seconds, services, whose):
    """Example: Then within 2 seconds the orders, inventory, payments and fraud services each log her order under its request id

    Each service writes JSON log lines; one of them must carry the request id the order was placed with.
    """
    order, names = context.shop.order_of(whose), wording.names(services)
    traces.expect_traced_within(lambda: context.stack.logs(since=context.started_at), order, names, seconds)


@then("{whose:Whose} full card number appears in none of the shop's answers")
def step_card_not_in_answers(context, whose):
    """Example: Then her full card number appears in none of the shop's answers

    Reads the order, its payments and its fraud decisions first, then looks through every answer
    the shop gave in the scenario.
    """
    order = context.shop.order_of(whose)
    traces.expect_no_card(order.card, context.shop.records(order), order.person, "answer of the shop")


@then("{whose:Whose} full card number appears in none of the published events")
def step_card_not_in_events(context, whose):
    """Example: Then her full card number appears in none of the published events"""
    order = context.shop.order_of(whose)
    traces.expect_no_card(order.card, announcements.texts(announcements.recorded(context).drain()),
                          order.person, "event")


@then("{whose:Whose} full card number appears in no service's log")
def step_card_not_in_logs(context, whose):
    """Example: Then her full card number appears in no service's log"""
    order = context.shop.order_of(whose)
    traces.expect_no_card(order.card, context.stack.logs(since=context.started_at), order.person, "log line")
