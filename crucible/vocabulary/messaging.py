"""Domain events on the broker: listen before an action, then expect an event within a bound.

A :class:`Listener` owns one AMQP connection and one exclusive, auto-deleted queue bound to a
topic exchange (the step's, else the settings' ``broker.exchange``) with one binding key per ``listen``.
Every event it receives is attached to the report (secrets masked). An event is looked for by
its routing key (AMQP topic patterns: ``*`` one word, ``#`` any words), its ``type`` property or
the ``type`` field of its JSON body, and each received event satisfies one expectation at most.

The broker is the settings' ``broker.service`` (by default the one RabbitMQ service of the stack)
on its published AMQP port; user, password and virtual host come from the settings, else from
that service's compose environment (``RABBITMQ_DEFAULT_USER``/``RABBITMQ_DEFAULT_PASS``/
``RABBITMQ_DEFAULT_VHOST`` as the official image reads them, or ``RABBITMQ_USER``/``RABBITMQ_PASS``),
else RabbitMQ's own defaults (``guest``/``guest``, ``/``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import pika
from hamcrest.core.matcher import Matcher
from pika.exceptions import AMQPChannelError, AMQPError

from crucible.vocabulary import evidence, polling
from crucible.errors import BrokerError, ServiceNotFound, TestDataError
from crucible.vocabulary.http import mask
from crucible.vocabulary.matchers import JsonMatcher, render

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.1


def broker_service(stack, settings) -> str:
    """The stack's RabbitMQ service: broker.service, else the one service whose image names rabbitmq or
    that publishes the AMQP port."""
    return broker_service_of(stack.project, settings)


def broker_service_of(project, settings) -> str:
    """The RabbitMQ service of a compose project, as :func:`broker_service` finds it (before anything starts)."""
    services = project.services
    chosen = settings["broker.service"]
    if chosen:
        if chosen not in services:
            raise ServiceNotFound(f"{settings.where('broker.service')} names '{chosen}', which is not a service "
                                  f"of {project.path} (services: {', '.join(sorted(services))}).")
        return chosen
    port = settings["broker.port"]
    found = broker_candidates(services, port)
    if len(found) != 1:
        what = "no service looks like" if not found else f"{', '.join(sorted(found))} all look like"
        raise ServiceNotFound(f"The event steps need the stack's broker, but {what} a RabbitMQ broker "
                              f"(an image named rabbitmq, or a published port {port}). Name it in the settings: "
                              f"[broker] service = \"NAME\".")
    return found[0]


def broker_candidates(services: dict, port: int = 5672) -> list[str]:
    """The services that look like a RabbitMQ broker: an image that names rabbitmq, or the AMQP port published."""
    return [name for name, svc in services.items()
            if "rabbitmq" in svc.image.lower() or any(p.container == port for p in svc.ports)]


def broker_url(stack, settings) -> str:
    """The AMQP URL of the stack's broker: published host:port, credentials from settings or its compose environment."""
    service = broker_service(stack, settings)
    env = stack.project.services[service].environment
    user = settings["broker.user"] or env.get("RABBITMQ_DEFAULT_USER") or env.get("RABBITMQ_USER") or "guest"
    password = settings["broker.password"] or env.get("RABBITMQ_DEFAULT_PASS") or env.get("RABBITMQ_PASS") or "guest"
    vhost = settings["broker.vhost"] or env.get("RABBITMQ_DEFAULT_VHOST") or env.get("RABBITMQ_VHOST") or "/"
    address = urlsplit(stack.url(service, settings["broker.port"])).netloc
    return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{address}/{quote(vhost, safe='')}"


def safe_url(url: str) -> str:
    """An AMQP URL with its password masked, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _words_match(pattern.split("."), key.split("."))


def _words_match(pattern: list[str], key: list[str]) -> bool:
    """Match the words of a topic pattern against the words of a routing key."""
    if not pattern:
        return not key
    if pattern[0] == "#":
        return any(_words_match(pattern[1:], key[i:]) for i in range(len(key) + 1))
    return bool(key) and pattern[0] in ("*", key[0]) and _words_match(pattern[1:], key[1:])


@dataclass
class Event:
    """One message taken from the listener's queue."""

    exchange: str
    routing_key: str
    type: str | None
    headers: dict[str, Any]
    body: Any

    @property
    def title(self) -> str:
        """A short name, e.g. ``event stock.changed on retail.events``."""
        return f"event {self.routing_key} on {self.exchange or '(default exchange)'}"

    def is_named(self, name: str) -> bool:
        """True if the event's routing key matches ``name`` as a topic pattern, or its type is ``name``."""
        body_type = self.body.get("type") if isinstance(self.body, dict) else None
        return topic_matches(name, self.routing_key) or name in (self.type, body_type)

    def render(self) -> str:
        """The event as readable text, secrets masked."""
        body = self.body if isinstance(self.body, str) else json.dumps(mask(self.body), indent=2, ensure_ascii=False)
        headers = "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        return (f"exchange: {self.exchange}\nrouting key: {self.routing_key}\ntype: {self.type or '-'}\n"
                f"{headers}\n{body}\n")


def decode(payload: bytes) -> Any:
    """A message body as JSON if it is JSON, else text."""
    text = payload.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class BrokerConnection:
    """One AMQP connection and channel, opened on first use and again after the broker went away.

    ``url`` is a URL or a function giving the current one: a restarted broker has a new host port.
    """

    def __init__(self, url: str | Callable[[], str]):
        self._url = url
        self.connection: pika.BlockingConnection | None = None
        self.channel = None

    @property
    def url(self) -> str:
        """Where the broker is now."""
        return self._url() if callable(self._url) else self._url

    def _connected(self) -> None:
        """Called after a new connection was opened."""

    def _channel(self):
        """The open channel, (re)connecting to wherever the broker is published now."""
        if self.channel is not None and self.channel.is_open:
            return self.channel
        url = self.url
        try:
            if self.connection is None or not self.connection.is_open:
                params = pika.URLParameters(url)
                params.connection_attempts, params.retry_delay, params.socket_timeout = 3, 0.5, 5
                self.connection = pika.BlockingConnection(params)
                self._connected()
            self.channel = self.connection.channel()
        except AMQPError as exc:
            self.connection = self.channel = None
            raise BrokerError(f"Cannot connect to the broker at {safe_url(url)}: "
                              f"{type(exc).__name__} {exc}") from None
        return self.channel

    def _sleep(self, seconds: float) -> None:
        """Wait while keeping the connection serviced (heartbeats)."""
        try:
            if self.connection is not None and self.connection.is_open:
                self.connection.sleep(seconds)
                return
        except AMQPError:
            self.connection = self.channel = None
        time.sleep(seconds)

    def _disconnect(self) -> None:
        """Close the connection (a failure to close is only logged)."""
        try:
            if self.connection is not None and self.connection.is_open:
                self.connection.close()
        except AMQPError as exc:
            log.warning("closing the broker connection failed: %s", exc)
        self.connection = self.channel = None


class Listener(BrokerConnection):
    """One scenario's connection to the broker and its exclusive queue of received events."""

    def __init__(self, url: str, record: Callable[[Event], None] | None = None,
                 exchange: str | None = None, correlation_id: str | None = None):
        super().__init__(url)
        self.record = record
        self.exchange = exchange
        self.correlation_id = correlation_id
        self.queue: str | None = None
        self.bindings: list[tuple[str, str]] = []
        self.received: list[Event] = []
        self.used: set[int] = set()
        self.last: Event | None = None

    def _connected(self) -> None:
        """A new connection was opened: an exclusive queue ended with the old one."""
        self.queue = None

    def _exchange(self, exchange: str | None) -> str:
        """The exchange a step names, else the default one; a TestDataError when there is neither."""
        if not (exchange or self.exchange):
            raise TestDataError("No exchange: name it in the step (... on the \"NAME\" exchange) or set "
                                "[broker] exchange = \"NAME\" in the settings.")
        return exchange or self.exchange

    def listen(self, binding_key: str, exchange: str | None = None) -> None:
        """Bind the listener's queue to a topic exchange with a binding key (``stock.*``, ``#``)."""
        exchange = self._exchange(exchange)
        channel = self._channel()
        try:
            channel.exchange_declare(exchange, passive=True)
            if self.queue is None:
                self.queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            channel.queue_bind(self.queue, exchange, routing_key=binding_key)
        except AMQPChannelError as exc:
            raise BrokerError(f"Cannot listen for '{binding_key}' on exchange '{exchange}' at "
                              f"{safe_url(self.url)}: {exc}. The exchange must exist: the service that "
                              f"publishes declares it when it starts.") from None
        self.bindings.append((exchange, binding_key))
        log.debug("listening for %s on %s (queue %s)", binding_key, exchange, self.queue)

    def publish(self, routing_key: str, body: Any, exchange: str | None = None) -> None:
        """Publish a JSON event to a topic exchange, which must exist (checked first, so the error names it)."""
        exchange = self._exchange(exchange)
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                          message_id=str(uuid.uuid4()), correlation_id=self.correlation_id)
        try:
            self._channel().exchange_declare(exchange, passive=True)
        except AMQPChannelError as exc:
            raise BrokerError(f"Cannot publish '{routing_key}': the exchange '{exchange}' does not exist on the "
                              f"broker at {safe_url(self.url)} ({exc}). Check its name, or that the service "
                              f"that owns it has declared it.") from None
        try:
            self._channel().basic_publish(exchange, routing_key, json.dumps(body).encode(), properties)
        except AMQPError as exc:
            raise BrokerError(f"Cannot publish '{routing_key}' to exchange '{exchange}': {exc}") from None
        log.debug("published %s to %s", routing_key, exchange)

    def drain(self) -> list[Event]:
        """Take every message waiting in the queue; return all events received so far."""
        if self.queue is None:
            raise TestDataError("Not listening for any event: a step such as 'Given I listen for "
                                "\"stock.changed\" events' must come before the action.")
        try:
            while True:
                method, properties, payload = self._channel().basic_get(self.queue, auto_ack=True)
                if method is None:
                    break
                event = Event(method.exchange, method.routing_key, properties.type,
                              dict(properties.headers or {}), decode(payload))
                self.received.append(event)
                if self.record:
                    self.record(event)
        except AMQPError as exc:
            raise BrokerError(f"Lost the broker at {safe_url(self.url)} while waiting for events: {exc}") from None
        return self.received

    def _unused(self, name: str) -> list[tuple[int, Event]]:
        """Received events with this name that no earlier expectation took."""
        return [(i, e) for i, e in enumerate(self.received) if i not in self.used and e.is_named(name)]

    def expect(self, name: str, matcher: Matcher | None, timeout: float) -> Event:
        """The first event named ``name`` whose JSON body satisfies ``matcher``, within ``timeout``."""
        found: list[int] = []

        def check(_events: list[Event]) -> None:
            candidates = self._unused(name)
            for index, event in candidates:
                if matcher is None or matcher.matches(event.body):
                    found.append(index)
                    return
            raise AssertionError(self._why_not(name, matcher, candidates))

        polling.eventually(self.drain, check, timeout, interval=POLL_INTERVAL, sleep=self._sleep,
                           describe=lambda _events: self._seen())
        self.used.add(found[0])
        self.last = self.received[found[0]]
        return self.last

    def expect_none(self, name: str, seconds: float) -> None:
        """Fail if an event named ``name`` arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            arrived = self._unused(name) if self.drain() else []
            assert not arrived, (f"expected no '{name}' event within {seconds:g} seconds, but got: "
                                 + "; ".join(f"{e.routing_key} {render(e.body)}" for _, e in arrived))
            if time.monotonic() >= deadline:
                return
            self._sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))

    def _why_not(self, name: str, matcher: Matcher | None, candidates: list[tuple[int, Event]]) -> str:
        """Why no event satisfied an expectation: none arrived, or the closest one's mismatches."""
        if not candidates:
            return f"no '{name}' event arrived"
        index, event = candidates[-1]
        if isinstance(matcher, JsonMatcher):
            problems = "; ".join(matcher.mismatches(event.body, "$")[:5])
        else:
            problems = f"expected {render(matcher)} but the body was {render(event.body)}"
        return (f"{problems}\n{len(candidates)} '{name}' event(s) arrived but none matched; that is how the latest "
                f"({event.routing_key}) differs.")

    def _seen(self) -> str:
        """Every event received so far, one per line."""
        if not self.received:
            return f"no event at all (bound to: {self._bound()})"
        return "\n".join(f"  {e.routing_key}: {render(e.body)}" for e in self.received[-10:])

    def _bound(self) -> str:
        """The listener's bindings, for messages."""
        return ", ".join(f"{key} on {exchange}" for exchange, key in self.bindings) or "nothing"

    def close(self) -> None:
        """Close the connection; the exclusive queue goes with it."""
        self._disconnect()


def for_scenario(context) -> Listener:
    """The scenario's listener: connected on first use, closed when the scenario ends."""
    listener = getattr(context, "listener", None)
    if listener is None:
        settings = context.settings
        listener = Listener(broker_url(context.stack, settings),
                            record=lambda event: evidence.attach(context, event.render(), event.title),
                            exchange=settings["broker.exchange"], correlation_id=context.correlation_id)
        context.listener = listener
        context.add_cleanup(listener.close)
    return listener


def last_event(context) -> Event:
    """The event the scenario's latest expectation found."""
    listener = getattr(context, "listener", None)
    if listener is None or listener.last is None:
        raise TestDataError("No event has been received in this scenario yet: a step such as "
                            "'Then within 5 seconds a \"stock.changed\" event arrives' must come first.")
    return listener.last
