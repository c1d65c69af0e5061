"""Messaging: broker address from the stack, topic matching, event naming, and listening, publishing
and expecting events for real on a broker (CRUCIBLE_TEST_AMQP_URL, else the reference stack's)."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from hamcrest import equal_to

from crucible import errors
from crucible.vocabulary.matchers import matches_json
from crucible import settings
from crucible.vocabulary.messaging import Event, Listener, broker_url, safe_url, topic_matches

AMQP_URL = os.environ.get("CRUCIBLE_TEST_AMQP_URL")


def fake_stack(environment: dict, services=("rabbitmq",), image="rabbitmq:3-management"):
    """Just enough of a Stack: the compose services and the published URL of the broker."""
    project = SimpleNamespace(path="docker/compose.yaml", services={
        name: SimpleNamespace(environment=environment, image=image, ports=()) for name in services})
    return SimpleNamespace(project=project, url=lambda service, port: f"amqp://127.0.0.1:4{port}")


def options(**values):
    return settings.load(start=Path("/nonexistent"), environ={}, userdata=values)


@pytest.mark.parametrize("pattern, key, ok", [
    ("stock.changed", "stock.changed", True), ("stock.changed", "stock.reserved", False),
    ("stock.*", "stock.changed", True), ("stock.*", "stock.changed.north", False),
    ("stock.#", "stock", True), ("stock.#", "stock.changed.north", True),
    ("#", "anything.at.all", True), ("#.changed", "stock.changed", True),
    ("*.changed", "changed", False), ("a.#.z", "a.z", True), ("a.#.z", "a.b.c.z", True),
])
def test_topic_matching(pattern, key, ok):
    assert topic_matches(pattern, key) is ok


def test_broker_url_uses_the_published_port_and_the_compose_credentials():
    stack = fake_stack({"RABBITMQ_USER": "shop", "RABBITMQ_PASS": "p@ss/word"})
    assert broker_url(stack, options()) == "amqp://shop:p%40ss%2Fword@127.0.0.1:45672/%2F"


def test_broker_url_defaults_and_official_image_names():
    assert broker_url(fake_stack({}), options()) == "amqp://guest:guest@127.0.0.1:45672/%2F"
    stack = fake_stack({"RABBITMQ_DEFAULT_USER": "u", "RABBITMQ_DEFAULT_PASS": "p", "RABBITMQ_DEFAULT_VHOST": "shop"})
    assert broker_url(stack, options()) == "amqp://u:p@127.0.0.1:45672/shop"


def test_the_settings_name_the_broker_and_its_credentials():
    stack = fake_stack({}, services=("mq", "web"), image="debian")
    assert broker_url(stack, options(**{"broker.service": "mq", "broker.user": "a", "broker.password": "b"})) == \
        "amqp://a:b@127.0.0.1:45672/%2F"


def test_a_stack_without_a_broker_is_named():
    with pytest.raises(errors.ServiceNotFound, match=r"no service looks like a RabbitMQ broker.*\[broker\] service"):
        broker_url(fake_stack({}, services=("orders",), image="crucible/orders"), options())
    with pytest.raises(errors.ServiceNotFound, match="names 'mq', which is not a service"):
        broker_url(fake_stack({}), options(broker="mq"))


def test_safe_url_masks_the_password():
    assert safe_url("amqp://u:secret@h:1/%2F") == "amqp://u:***@h:1/%2F"


def test_events_are_found_by_routing_key_type_property_or_body_type():
    event = Event("retail.events", "stock.changed", None, {}, {"type": "StockChanged", "data": {}})
    assert event.is_named("stock.changed") and event.is_named("stock.*") and event.is_named("StockChanged")
    assert not event.is_named("order.confirmed")
    assert Event("x", "k", "order.confirmed", {}, "text").is_named("order.confirmed")


def test_event_render_masks_secrets():
    text = Event("retail.events", "payment.authorised", None, {}, {"card_number": "4111111111111111"}).render()
    assert "4111111111111111" not in text and "***" in text


def test_expecting_before_listening_is_a_test_data_error():
    with pytest.raises(errors.TestDataError, match="Not listening for any event"):
        Listener("amqp://u:p@127.0.0.1:1/%2F").drain()


def test_an_unreachable_broker_is_a_broker_error():
    with pytest.raises(errors.BrokerError, match=r"Cannot connect to the broker at amqp://u:\*\*\*@127.0.0.1:1/"):
        Listener("amqp://u:p@127.0.0.1:1/%2F", exchange="shop").listen("stock.changed")


@pytest.fixture
def broker(request):
    """A listener and a publisher on a real broker (CRUCIBLE_TEST_AMQP_URL, else the reference stack's)."""
    url = AMQP_URL or broker_url(request.getfixturevalue("reference_stack"), options(broker="rabbitmq"))
    import pika
    connection = pika.BlockingConnection(pika.URLParameters(url))
    connection.channel().exchange_declare("crucible.test", exchange_type="topic", durable=False, auto_delete=True)
    listener, publisher = Listener(url, exchange="crucible.test"), Listener(url, exchange="crucible.test")
    listener.listen("stock.*")  # keeps the auto-delete exchange alive while the test runs
    yield listener, publisher
    listener.close()
    publisher.close()
    connection.close()


def test_real_broker_an_event_arrives_and_matches(broker):
    listener, publisher = broker
    recorded = []
    listener.record = recorded.append
    publisher.publish("order.confirmed", {"id": 1})
    publisher.publish("stock.changed", {"type": "stock.changed", "data": {"sku": "mug", "quantity": 3}})
    event = listener.expect("stock.changed", matches_json({"data": {"sku": "mug", "quantity": 3}}), 5)
    assert event.routing_key == "stock.changed" and recorded == [event]
    assert listener.last is event


def test_real_broker_each_event_satisfies_one_expectation(broker):
    listener, publisher = broker
    publisher.publish("stock.changed", {"n": 1})
    listener.expect("stock.changed", None, 5)
    with pytest.raises(AssertionError, match="no 'stock.changed' event arrived"):
        listener.expect("stock.changed", None, 0.5)


def test_real_broker_mismatch_names_the_path_and_the_last_event(broker):
    listener, publisher = broker
    publisher.publish("stock.changed", {"data": {"quantity": 5}})
    with pytest.raises(AssertionError) as raised:
        listener.expect("stock.changed", matches_json({"data": {"quantity": 3}}), 0.5)
    message = str(raised.value)
    assert "Still not true after 0.5 seconds" in message
    assert "$.data.quantity: expected 3 but was 5" in message
    assert 'stock.changed: {"data": {"quantity": 5}}' in message


def test_real_broker_no_event_and_a_plain_matcher(broker):
    listener, publisher = broker
    listener.expect_none("stock.changed", 0.3)
    publisher.publish("stock.changed", "plain text")
    assert listener.expect("stock.changed", equal_to("plain text"), 5).body == "plain text"
    publisher.publish("stock.reserved", {})
    with pytest.raises(AssertionError, match="expected no 'stock.reserved' event within 1 seconds"):
        listener.expect_none("stock.reserved", 1)


def test_real_broker_listening_on_a_missing_exchange_is_a_broker_error_and_recoverable(broker):
    listener, publisher = broker
    with pytest.raises(errors.BrokerError, match="exchange 'no.such.exchange'.*must exist"):
        listener.listen("x", exchange="no.such.exchange")
    listener.listen("order.*")
    publisher.publish("order.confirmed", {"id": 7})
    assert listener.expect("order.confirmed", matches_json({"id": 7}), 5).body == {"id": 7}


def test_real_broker_publishing_to_a_missing_exchange_fails_in_that_step_naming_it(broker):
    _, publisher = broker
    with pytest.raises(errors.BrokerError, match="the exchange 'no.such.exchange' does not exist"):
        publisher.publish("stock.changed", {"n": 1}, exchange="no.such.exchange")
    publisher.publish("stock.changed", {"n": 2})  # the publisher is still usable afterwards
