"""The shop's events as one scenario sees them, kept in a durable queue that outlives a broker restart.

:class:`EventLog` declares its own queue on the broker, bound to every event of the topic
exchange (``retail.events``), before the scenario acts. The queue is durable, neither exclusive
nor auto-deleted, so it and the persistent events in it survive a stop and start of the broker
(docker/README.md, "Listening from the host"); the broker itself deletes it after ten idle
minutes should a run die before its clean-up. After a broker restart the log reconnects to the
broker's new published port. Events are de-duplicated by their envelope id (delivery is
at-least-once), and only events that mention the scenario's unique id are kept and attached to
the report, so other scenarios' traffic never confuses a check.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

from pika.exceptions import AMQPError

from crucible.vocabulary import earlier, evidence, messaging, polling
from retail import wording
from crucible.errors import BrokerError, TestDataError
from crucible.vocabulary.matchers import render
from crucible.vocabulary.messaging import Event

log = logging.getLogger(__name__)

QUEUE_EXPIRES_MS = 10 * 60 * 1000
POLL_INTERVAL = 0.1


def a(name: str) -> str:
    """A name with its article: ``a("order confirmed") == "an 'order confirmed'"``."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} '{name}'"


def key_of(name: str) -> str:
    """The routing key of an event named in words: ``key_of("order confirmed") == "order.confirmed"``."""
    return ".".join(name.strip().lower().split())


class EventLog(messaging.BrokerConnection):
    """One scenario's durable queue of the shop's events, and the events about the scenario so far."""

    def __init__(self, url: Callable[[], str], queue: str, mark: str,
                 exchange: str = "retail.events", record: Callable[[Event], None] | None = None):
        super().__init__(url)
        self.queue = queue
        self.mark = mark
        self.exchange = exchange
        self.record = record
        self.events: list[Event] = []
        self.seen: set[str] = set()
        self.last: Event | None = None

    def start(self) -> None:
        """Declare the exchange and the scenario's durable queue, bound to every event."""
        channel = self._channel()
        try:
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            channel.queue_declare(self.queue, durable=True, arguments={"x-expires": QUEUE_EXPIRES_MS})
            channel.queue_bind(self.queue, self.exchange, routing_key="#")
        except AMQPError as exc:
            raise BrokerError(f"Cannot record the shop's events in queue '{self.queue}' bound to exchange "
                              f"'{self.exchange}': {exc}") from None
        log.debug("recording every event of %s in durable queue %s", self.exchange, self.queue)

    def drain(self) -> list[Event]:
        """Take every waiting message; return the events about this scenario received so far."""
        for attempt in (1, 2):
            try:
                self._take()
                return self.events
            except AMQPError as exc:  # the broker went away (a restart): reconnect once, then give up
                self.connection = self.channel = None
                if attempt == 2:
                    raise BrokerError(f"Lost the broker while reading queue '{self.queue}': "
                                      f"{type(exc).__name__} {exc}") from None
        return self.events

    def _take(self) -> None:
        """Move every waiting message into the log (unrelated or repeated ones are dropped)."""
        channel = self._channel()
        while True:
            method, properties, payload = channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return
            if self.mark.encode() not in payload:
                continue
            body = messaging.decode(payload)
            envelope = body.get("id") if isinstance(body, dict) else None
            if envelope in self.seen:
                continue
            self.seen.add(envelope or str(len(self.events)))
            event = Event(method.exchange, method.routing_key, properties.type, dict(properties.headers or {}), body)
            self.events.append(event)
            if self.record:
                self.record(event)

    def expect(self, what: str, found: Callable[[Event], bool], timeout: float) -> Event:
        """The first event that ``found`` accepts, within ``timeout`` seconds (``what`` names it in words)."""
        def check(events: list[Event]) -> None:
            assert any(found(e) for e in events), f"expected {what} to be published, but it was not"

        polling.eventually(self.drain, check, timeout, interval=POLL_INTERVAL, sleep=self._sleep,
                           describe=self.describe)
        self.last = next(e for e in self.events if found(e))
        return self.last

    def expect_each(self, wanted: list[tuple[str, Callable[[Event], bool]]], timeout: float,
                    about: str = "") -> list[Event]:
        """One distinct event for each (words, test) pair, all within ``timeout`` seconds (``about``: whose)."""
        chosen: list[Event] = []

        def check(events: list[Event]) -> None:
            chosen.clear()
            missing = []
            for what, found in wanted:
                match = next((e for e in events if found(e) and not any(e is c for c in chosen)), None)
                if match is None:
                    missing.append(what)
                else:
                    chosen.append(match)
            assert not missing, (f"expected {len(wanted)} event(s){about} to be published, but {len(missing)} "
                                 f"did not arrive: {', '.join(missing)}")

        polling.eventually(self.drain, check, timeout, interval=POLL_INTERVAL, sleep=self._sleep,
                           describe=self.describe)
        self.last = chosen[-1] if chosen else None
        return chosen

    def found(self) -> Event:
        """The event the latest expectation found."""
        if self.last is None:
            raise TestDataError("No event has been found yet: a step such as 'Then within 2 seconds an "
                                "\"order confirmed\" event is published for her order' must come first.")
        return self.last

    def describe(self, events: list[Event] | None = None) -> str:
        """The events about this scenario received so far, one per line."""
        events = self.events if events is None else events
        if not events:
            return "no event about this scenario at all"
        return "\n".join(f"  {e.routing_key}: {render(e.body)}" for e in events[-12:])

    def close(self) -> None:
        """Delete the scenario's queue and close the connection."""
        try:
            self._channel().queue_delete(self.queue)
        except (AMQPError, BrokerError) as exc:
            log.warning("could not delete queue %s (the broker drops it after %d idle minutes): %s",
                        self.queue, QUEUE_EXPIRES_MS // 60000, exc)
        self._disconnect()


def for_scenario(context) -> EventLog:
    """The scenario's event log: created and started on first use, removed when the scenario ends."""
    events = getattr(context, "event_log", None)
    if events is None:
        settings = context.settings
        events = EventLog(lambda: messaging.broker_url(context.stack, settings), f"crucible.{context.names.uid}.events",
                          mark=context.names.uid, exchange=settings["broker.exchange"] or "retail.events",
                          record=lambda event: evidence.attach(context, event.render(), event.title))
        context.event_log = events
        context.add_cleanup(events.close)
        events.start()
    return events


def recorded(context) -> EventLog:
    """The scenario's event log; a step that checks events needs 'the shop's events are being recorded' first."""
    return earlier.left(context, "event_log", TestDataError(
        "The shop's events are not being recorded: add the step 'Given the shop's events are being recorded' "
        "before the action."))


def stock_change(names, row: dict[str, str]) -> tuple[str, Callable[[Event], bool]]:
    """Words and a test for a row of a stock-change table (store, product, change, quantity, cause?)."""
    store, sku = names.store(row["store"]), names.sku(row["product"])
    change, level = wording.quantity(row["change"], "change"), wording.quantity(row["quantity"])
    cause = row.get("cause") or None
    what = (f"a stock change of {change:+d} '{row['product']}' at the '{row['store']}' store, leaving {level}"
            + (f" (cause {cause})" if cause else ""))

    def found(event: Event) -> bool:
        data = event.body.get("data") if isinstance(event.body, dict) else None
        return (event.routing_key == "stock.changed" and isinstance(data, dict) and data.get("store") == store
                and data.get("sku") == sku and data.get("delta") == change and data.get("quantity") == level
                and (cause is None or data.get("cause") == cause))
    return what, found


def texts(events: list[Event]) -> dict[str, str]:
    """Each event as text (body and headers), named by its position and routing key."""
    return {f"event {number} ({e.routing_key})": json.dumps(e.body) + " " + json.dumps(e.headers, default=str)
            for number, e in enumerate(events, 1)}
