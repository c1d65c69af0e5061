"""Domain events: an outbox row written in the caller's transaction, a relay that publishes the
outbox to the topic exchange with publisher confirms, and a queue consumer.

Delivery is at-least-once: a row is marked published only after the broker confirmed it, so a
crash between the confirm and the mark publishes it again. Consumers de-duplicate by envelope id.
"""
import json
import logging
import os
import select
import threading
import time
import uuid

import pika
import pika.exceptions
import psycopg2
import psycopg2.extensions

from service import SERVICE, current_request_id, log, log_event, request_id_scope, utc_now

EXCHANGE = os.environ.get("EVENTS_EXCHANGE", "retail.events")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://crucible:crucible@rabbitmq:5672/%2F")
RELAY_LOCK_ID = 7_263_002  # pg_try_advisory_xact_lock key: one relay of the service publishes at a time
BATCH = 200
RETRY_SECONDS = 0.25
POLL_SECONDS = 1.0  # fallback poll of the outbox when no NOTIFY arrived
FRESH_SECONDS = 3.0  # readiness: the broker connection must have been serviced this recently
STATE_DIR = os.environ.get("BROKER_STATE_DIR", "/tmp/crucible-broker-state")  # per-worker link states
logging.getLogger("pika").setLevel(logging.CRITICAL)  # connection attempts are reported by us, once

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    routing_key  text        NOT NULL,
    envelope     json        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""


def emit(cur, event_type, data):
    """Write an event to the outbox inside the caller's transaction; the relay publishes it after commit."""
    envelope = {"id": str(uuid.uuid4()), "type": event_type, "occurred_at": utc_now(),
                "request_id": current_request_id(), "source": SERVICE, "data": data}
    cur.execute("INSERT INTO outbox (event_id, routing_key, envelope) VALUES (%s, %s, %s)",
                (envelope["id"], event_type, json.dumps(envelope)))
    cur.execute("NOTIFY outbox")
    return envelope


def open_channel(purpose):
    """Connect to the broker, open a channel and declare the durable topic exchange."""
    params = pika.URLParameters(AMQP_URL)
    params.heartbeat = 5
    params.connection_attempts = 1
    params.socket_timeout = 2
    params.blocked_connection_timeout = 5
    params.client_properties = {"connection_name": f"{SERVICE}/{purpose}/{os.getpid()}"}
    connection = pika.BlockingConnection(params)
    try:
        channel = connection.channel()
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    except Exception:
        _close_quietly(connection)
        raise
    return connection, channel


def _close_quietly(connection):
    """Close a pika connection, ignoring errors of an already broken one."""
    try:
        if connection is not None and connection.is_open:
            connection.close()
    except Exception:  # pika raises assorted errors on a dead socket
        pass


class _BrokerLink:
    """Connection state of a Relay or Consumer, reported by /health/ready.

    Each gunicorn worker has its own links; each writes its state to a small file in STATE_DIR so
    that every worker answers readiness for all of them (no flapping between workers).
    """

    def __init__(self, purpose):
        self.purpose = purpose
        self.slug = purpose.replace(" ", "-")
        self.connected = False
        self.last_ok = 0.0
        self.error = "not connected yet"
        self._reported_down = False
        self._ever_connected = False
        self._written = 0.0

    def check(self):
        """(name, ok, detail) for the readiness endpoint: every live worker's link must be up and fresh."""
        name = f"broker ({self.purpose})"
        if not self.connected:
            return name, False, self.error
        if time.monotonic() - self.last_ok >= FRESH_SECONDS:
            return name, False, "connection stalled"
        try:
            entries = [entry for entry in os.listdir(STATE_DIR) if entry.endswith(f"-{self.slug}")]
        except OSError:
            entries = []
        for entry in entries:
            pid = int(entry.split("-", 1)[0])
            if pid == os.getpid() or not _alive(pid):
                continue
            try:
                with open(os.path.join(STATE_DIR, entry)) as handle:
                    state = json.load(handle)
            except (OSError, ValueError):
                continue
            if not state.get("ok"):
                return name, False, f"worker {pid}: {state.get('error')}"
            if time.time() - state.get("at", 0) >= FRESH_SECONDS:
                return name, False, f"worker {pid}: connection stalled"
        return name, True, "ok"

    def beat(self, force=False):
        """Record that the connection was just serviced; share the state with the other workers."""
        if self.connected:
            self.last_ok = time.monotonic()
        now = time.time()
        if not force and now - self._written < 1.0:
            return
        self._written = now
        path = os.path.join(STATE_DIR, f"{os.getpid()}-{self.slug}")
        try:
            os.makedirs(STATE_DIR, exist_ok=True)
            with open(path + ".tmp", "w") as handle:
                json.dump({"ok": self.connected, "error": self.error, "at": now}, handle)
            os.replace(path + ".tmp", path)
        except OSError:
            pass  # readiness then falls back to this worker's own state

    def up(self):
        """Record a successful connection (logged once per outage)."""
        self.connected, self.error = True, None
        self.beat(force=True)
        if self._reported_down or not self._ever_connected:
            log_event(logging.INFO, "broker connected", purpose=self.purpose, exchange=EXCHANGE)
        self._reported_down, self._ever_connected = False, True

    def down(self, exc):
        """Record a failed or lost connection (logged once per outage)."""
        self.connected = False
        self.error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        self.beat(force=True)
        if not self._reported_down:
            verb = "broker connection lost" if self._ever_connected else "waiting for broker"
            log_event(logging.WARNING, verb, purpose=self.purpose, error=self.error)
            self._reported_down = True


def _alive(pid):
    """True if a process with this pid exists (another gunicorn worker of this container)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Relay(_BrokerLink):
    """Publishes unpublished outbox rows in id order, marking each sent once the broker confirmed it."""

    def __init__(self, dsn):
        super().__init__("outbox relay")
        self.dsn = dsn
        self.connection = self.channel = self.pg = None
        self.retry_at = 0.0
        self.next_poll = 0.0

    def start(self):
        """Run the relay in a daemon thread of this worker."""
        threading.Thread(target=self._run, name="outbox-relay", daemon=True).start()

    def _run(self):
        """Keep both connections up, publish whenever notified (or every second), forever."""
        while True:
            try:
                self._ensure_broker()
                self._ensure_db()
                if self.channel is not None and self.pg is not None:
                    self._publish_due()
                self._wait(0.2)
            except Exception:  # never let the relay thread die
                log.exception("outbox relay error")
                time.sleep(RETRY_SECONDS)

    def _ensure_broker(self):
        """(Re)connect with publisher confirms unless connected or waiting to retry."""
        if self.connection is not None and self.connection.is_open:
            return
        if time.monotonic() < self.retry_at:
            return
        try:
            self.connection, self.channel = open_channel("relay")
            self.channel.confirm_delivery()
            self.up()
            self.next_poll = 0.0  # publish whatever waited during the outage right away
        except Exception as exc:
            self._drop_broker(exc)

    def _drop_broker(self, exc):
        """Forget a failed broker connection and retry shortly."""
        _close_quietly(self.connection)
        self.connection = self.channel = None
        self.retry_at = time.monotonic() + RETRY_SECONDS
        self.down(exc)

    def _ensure_db(self):
        """(Re)open the relay's own autocommit connection that LISTENs for new outbox rows."""
        if self.pg is not None and not self.pg.closed:
            return
        try:
            self.pg = psycopg2.connect(self.dsn, connect_timeout=2, application_name=f"{SERVICE}-relay")
            self.pg.autocommit = True
            with self.pg.cursor() as cur:
                cur.execute("LISTEN outbox")
            self.next_poll = 0.0
        except psycopg2.Error:
            self.pg = None

    def _wait(self, seconds):
        """Wait for a NOTIFY (or the timeout), then service the broker connection (heartbeats, close)."""
        if self.pg is not None:
            try:
                readable, _, _ = select.select([self.pg], [], [], seconds)
                if readable:
                    self.pg.poll()
                    if self.pg.notifies:
                        self.pg.notifies.clear()
                        self.next_poll = 0.0
            except (psycopg2.Error, OSError, ValueError):
                self._close_db()
        else:
            time.sleep(seconds)
        if self.connection is not None:
            try:
                self.connection.process_data_events(time_limit=0)
                self.beat()
            except Exception as exc:
                self._drop_broker(exc)

    def _close_db(self):
        """Forget the relay's database connection."""
        try:
            self.pg.close()
        except Exception:
            pass
        self.pg = None

    def _publish_due(self):
        """Publish batches until the outbox is drained, if notified or the fallback poll is due."""
        if time.monotonic() < self.next_poll:
            return
        self.next_poll = time.monotonic() + POLL_SECONDS
        try:
            while self._publish_batch():
                pass
        except psycopg2.Error:
            self._close_db()
        except Exception as exc:
            self._drop_broker(exc)

    def _publish_batch(self):
        """Publish one batch under the relay lock; return True if more rows may be waiting."""
        published = []
        with self.pg.cursor() as cur:
            cur.execute("BEGIN")
            try:
                cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (RELAY_LOCK_ID,))
                if not cur.fetchone()[0]:
                    cur.execute("ROLLBACK")
                    self.next_poll = time.monotonic() + 0.2  # the other worker's relay is publishing
                    return False
                cur.execute("SELECT id, routing_key, envelope::text FROM outbox WHERE published_at IS NULL"
                            " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (BATCH,))
                rows = cur.fetchall()
                try:
                    for row_id, routing_key, text in rows:
                        envelope = json.loads(text)
                        self.channel.basic_publish(
                            EXCHANGE, routing_key, text.encode(),
                            pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                                 message_id=envelope["id"], type=routing_key, app_id=SERVICE,
                                                 timestamp=int(time.time()),
                                                 headers={"x-request-id": envelope.get("request_id") or ""}),
                        )
                        published.append((row_id, envelope))
                finally:
                    if published:
                        cur.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)",
                                    ([row_id for row_id, _ in published],))
                    cur.execute("COMMIT")
            except psycopg2.Error:
                if not self.pg.closed:
                    try:
                        cur.execute("ROLLBACK")
                    except psycopg2.Error:
                        pass
                raise
        for _, envelope in published:
            with request_id_scope(envelope.get("request_id")):
                log_event(logging.INFO, "event published", event_id=envelope["id"], event_type=envelope["type"],
                          exchange=EXCHANGE)
        return len(published) == BATCH


class Consumer(_BrokerLink):
    """Consumes a durable queue bound to routing keys, calling handler(envelope) for each message."""

    def __init__(self, queue, routing_keys, handler):
        super().__init__(f"consumer {queue}")
        self.queue, self.routing_keys, self.handler = queue, routing_keys, handler

    def start(self):
        """Run the consumer in a daemon thread of this worker."""
        threading.Thread(target=self._run, name=f"consumer-{self.queue}", daemon=True).start()

    def _run(self):
        """Connect, declare and bind the queue, consume; reconnect after any failure."""
        while True:
            connection = None
            try:
                connection, channel = open_channel("consumer")
                channel.queue_declare(self.queue, durable=True)
                for key in self.routing_keys:
                    channel.queue_bind(self.queue, EXCHANGE, routing_key=key)
                channel.basic_qos(prefetch_count=50)
                channel.basic_consume(self.queue, self._on_message)
                self.up()
                while True:
                    connection.process_data_events(time_limit=0.2)
                    self.beat()
            except Exception as exc:
                _close_quietly(connection)
                self.down(exc)
                time.sleep(RETRY_SECONDS)

    def _on_message(self, channel, method, properties, body):
        """Handle one message: ack on success or on a malformed message, requeue on a database error."""
        try:
            envelope = json.loads(body)
            if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), dict):
                raise ValueError("not an event envelope")
        except ValueError as exc:
            log_event(logging.ERROR, "malformed message dropped", queue=self.queue, error=str(exc))
            channel.basic_ack(method.delivery_tag)
            return
        with request_id_scope(envelope.get("request_id")):
            try:
                self.handler(envelope)
            except psycopg2.Error as exc:
                log_event(logging.WARNING, "event not handled, requeued", queue=self.queue,
                          event_id=envelope.get("id"), error=str(exc).strip())
                channel.basic_nack(method.delivery_tag, requeue=True)
                time.sleep(0.5)
                return
            except Exception:
                log.exception("event handler failed; message dropped")
            channel.basic_ack(method.delivery_tag)
