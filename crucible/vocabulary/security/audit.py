"""Personal and card data stay where they belong: one data-flow audit of everything the run's services said.

From the moment the stack is up, the audit collects:

* **answers**: every HTTP answer a step received is searched before it is masked for the report
  (the kinds found are kept, never the values);
* **events**: a durable queue of its own (``crucible.audit.<run id>``) bound to every routing key of
  the settings' ``broker.exchange`` keeps every published event until the audit reads it;

and when the audit runs it also reads

* **logs**: every line every service has written since it started;
* **databases**: every column of every table of each service's own database (``[databases]``, or its
  ``DATABASE_URL``).

Each is searched for full card numbers, JWTs, bearer tokens, passwords and the stack's own secret
values (:mod:`crucible.secrets`). A place may hold them only if the settings say so
(``security.audit_allow``, glob patterns over place names such as ``column payments.tokens.value``).
The audit also lists every published port of the stack and where it is bound: each must be on
loopback (127.0.0.1 or ::1), reachable from this machine only.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import logging
from collections import Counter
from dataclasses import dataclass, field

from pika.exceptions import AMQPChannelError, AMQPError

from crucible.errors import BrokerError, CrucibleError, TestDataError
from crucible.secrets import Secrets, describe
from crucible.stack import engine, running
from crucible.vocabulary import database, messaging

log = logging.getLogger(__name__)

QUEUE_EXPIRES_MS = 6 * 3600 * 1000
QUEUE_MAX_LENGTH = 500_000
# Rows worth a closer look: a long digit run, a JWT, a bearer token or a key naming a secret (Postgres regex).
PREFILTER = r"[0-9]([ -]?[0-9]){11}|eyJ|[Bb]earer |[Pp]assword|[Ss]ecret"


@dataclass(frozen=True)
class Finding:
    """Secrets in one place: where (``log of orders``, ``column orders.orders.store``), how many of which kind,
    and a hint where inside (a line number, a row count)."""

    place: str
    kinds: Counter
    hint: str = ""

    def __str__(self) -> str:
        return f"{describe(self.kinds)} in the {self.place}" + (f" ({self.hint})" if self.hint else "")


class EventTap(messaging.BrokerConnection):
    """A durable queue bound to every event of an exchange, read by the audit: it outlives broker restarts."""

    def __init__(self, url, queue: str, exchange: str):
        super().__init__(url)
        self.queue = queue
        self.exchange = exchange

    def start(self) -> None:
        """Declare the queue (it expires six idle hours after a run died) and bind it to every routing key.

        The exchange is used as the stack declared it; one that does not exist yet is declared as a durable
        topic exchange, as the services of the reference stack declare theirs.
        """
        try:
            channel = self._channel()
            try:
                channel.exchange_declare(self.exchange, passive=True)
            except AMQPChannelError:  # not declared yet: the broker closed the channel
                channel = self._channel()
                channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            channel.queue_declare(self.queue, durable=True, arguments={"x-expires": QUEUE_EXPIRES_MS,
                                                                        "x-max-length": QUEUE_MAX_LENGTH})
            channel.queue_bind(self.queue, self.exchange, routing_key="#")
        except AMQPError as exc:
            raise BrokerError(f"Cannot record the events of exchange '{self.exchange}' for the data-flow audit "
                              f"(queue '{self.queue}'): {exc}") from None
        finally:
            self._disconnect()

    def take(self) -> list[tuple[str, str]]:
        """Every event waiting, as (routing key, text of headers and body); the connection is closed after."""
        taken = []
        try:
            channel = self._channel()
            while True:
                method, properties, payload = channel.basic_get(self.queue, auto_ack=True)
                if method is None:
                    break
                headers = json.dumps(dict(properties.headers or {}), default=str)
                taken.append((method.routing_key, headers + "\n" + payload.decode("utf-8", "replace")))
        except AMQPError as exc:
            raise BrokerError(f"Cannot read the audit's event queue '{self.queue}': {type(exc).__name__} {exc}") from None
        finally:
            self._disconnect()
        return taken

    def remove(self) -> None:
        """Delete the queue (a failure is only logged: the broker drops it after six idle hours)."""
        try:
            self._channel().queue_delete(self.queue)
        except (AMQPError, BrokerError) as exc:
            log.warning("could not delete the audit's event queue %s: %s", self.queue, exc)
        finally:
            self._disconnect()


@dataclass
class Audit:
    """What the run's services said, as far as the audit has seen it, and what it found there."""

    secrets: Secrets
    allow: list[str] = field(default_factory=list)
    tap: EventTap | None = None
    tap_problem: str = ""
    answers: int = 0
    events: int = 0
    found: list[Finding] = field(default_factory=list)

    @classmethod
    def start(cls, stack, settings, secrets: Secrets) -> "Audit":
        """An audit for a run: listening to the broker's events from now on, when the settings name an exchange."""
        audit = cls(secrets, list(settings["security.audit_allow"]))
        exchange = settings["broker.exchange"]
        if not exchange:
            audit.tap_problem = "no broker exchange is set ([broker] exchange), so no event was recorded"
            return audit
        try:
            tap = EventTap(lambda: messaging.broker_url(stack, settings), f"crucible.audit.{stack.run_id}", exchange)
            tap.start()
            audit.tap = tap
        except CrucibleError as exc:
            audit.tap_problem = f"events could not be recorded: {exc}"
            log.warning("The data-flow audit will not see events: %s", exc)
        return audit

    def _keep(self, finding: Finding) -> None:
        """Keep a finding unless the settings allow secrets in that place."""
        if not any(fnmatch.fnmatchcase(finding.place, pattern) for pattern in self.allow):
            self.found.append(finding)

    def saw_answer(self, service: str, title: str, kinds: Counter, scenario: str = "") -> None:
        """An answer a step received (``kinds``: what its unmasked text held)."""
        self.answers += 1
        if kinds:
            method_path = title.rsplit(" -> ", 1)[0]
            self._keep(Finding(f"answer of {service} to {method_path}", kinds, f"in '{scenario}'" if scenario else ""))

    def read_events(self) -> None:
        """Take every event recorded since the last read and search it."""
        if self.tap is None:
            return
        for key, text in self.tap.take():
            self.events += 1
            if kinds := self.secrets.kinds(text):
                self._keep(Finding(f"event {key}", kinds))

    def read_logs(self, stack) -> dict[str, int]:
        """Search every service's whole log; return the number of lines per service."""
        lines = {}
        for service, text in stack.logs().items():
            lines[service] = text.count("\n")
            for number, line in enumerate(text.splitlines(), 1):
                if kinds := self.secrets.kinds(line):
                    self._keep(Finding(f"log of {service}", kinds, f"line {number}"))
        return lines

    def read_databases(self, stack, settings) -> dict[str, int]:
        """Search every column of every table of each service's own database; return the rows looked at."""
        looked: dict[str, int] = {}
        for service in database_services(stack, settings):
            dsn = database.service_dsn(stack, settings, service)
            looked[service] = 0
            for table in database.tables(dsn, service):
                rows = database.query(dsn, f"SELECT * FROM {table} t WHERE t::text ~ %(pattern)s "
                                           f"OR t::text LIKE ANY(%(values)s)", service,
                                      {"pattern": PREFILTER, "values": [f"%{v}%" for v in self.secrets.values.values()]})
                looked[service] += len(rows.rows)
                for column in rows.columns:
                    kinds = Counter()
                    for row in rows.rows:
                        kinds += self.secrets.kinds(database.as_text(row[column]))
                    if kinds:
                        self._keep(Finding(f"column {service}.{table.removeprefix('public.')}.{column}", kinds))
        return looked

    def run(self, stack, settings) -> str:
        """Read events, logs and databases; return what was looked at, in words (the findings are kept)."""
        self.read_events()
        lines = self.read_logs(stack)
        rows = self.read_databases(stack, settings)
        events = f"{self.events} events" if self.tap is not None else f"no events ({self.tap_problem})"
        logs = ", ".join(f"{name} {count} lines" for name, count in sorted(lines.items()))
        databases = ", ".join(f"{name} ({count} rows worth a closer look)" for name, count in sorted(rows.items()))
        return (f"answers: {self.answers} answers received by the steps\n"
                f"events: {events}\n"
                f"logs: {logs}\n"
                f"databases: {databases or 'none known'}\n"
                f"places the settings let hold them (security.audit_allow): {', '.join(self.allow) or 'none'}\n")

    def expect_clean(self) -> None:
        """Fail naming every place that holds a card number, token or secret it should not."""
        if self.tap is None and self.tap_problem.startswith("events could not"):
            raise BrokerError(f"The data-flow audit is incomplete: {self.tap_problem}")
        found = merge(self.found)
        assert not found, (f"expected no full card number, token or secret where it does not belong, but found "
                           f"{len(found)}:\n  " + "\n  ".join(str(finding) for finding in found[:25]))


def merge(found: list[Finding]) -> list[Finding]:
    """One finding per place: kinds added up, the first hint kept."""
    merged: dict[str, Finding] = {}
    for finding in found:
        earlier = merged.get(finding.place)
        merged[finding.place] = finding if earlier is None else Finding(
            finding.place, earlier.kinds + finding.kinds, earlier.hint)
    return list(merged.values())


def database_services(stack, settings) -> list[str]:
    """The services whose own database is known: named in ``[databases]``, or with a DATABASE_URL."""
    return sorted(name for name, service in stack.project.services.items()
                  if settings.database(name) or service.environment.get("DATABASE_URL"))


@dataclass(frozen=True)
class Binding:
    """One published port: service, container port, and the host address and port it is bound to."""

    service: str
    port: str
    host_ip: str
    host_port: str

    @property
    def loopback(self) -> bool:
        """True if only this machine can reach it (any loopback address: 127.0.0.0/8 or ::1)."""
        try:
            return ipaddress.ip_address(self.host_ip).is_loopback
        except ValueError:
            return False


def bindings(stack) -> list[Binding]:
    """Every published port of every container of the run (services, and any proxy a fault put in between),
    as the engine reports it now."""
    filters = {"label": [f"{running.LABEL_PROJECT}={stack.project.name}", f"{running.LABEL_RUN}={stack.run_id}"]}
    with engine.guard("listing the published ports of the stack"):
        containers = stack.client.containers.list(filters=filters)
    found = []
    for container in containers:
        name = container.labels.get(running.LABEL_SERVICE) or container.name
        for port, bound in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
            found += [Binding(name, port, b.get("HostIp") or "0.0.0.0", b.get("HostPort", "")) for b in bound or []]
    return sorted(found, key=lambda b: (b.service, b.port, b.host_ip))


def exposure_table(found: list[Binding]) -> str:
    """The published ports as CSV."""
    return "service,container port,bound to,host port,reachable from\n" + "".join(
        f"{b.service},{b.port},{b.host_ip},{b.host_port},{'this machine only' if b.loopback else 'other machines'}\n"
        for b in found)


def expect_loopback(found: list[Binding]) -> None:
    """Fail naming every published port that other machines can reach."""
    if not found:
        raise TestDataError("The stack publishes no port at all: there is no exposure to check.")
    open_ports = [b for b in found if not b.loopback]
    assert not open_ports, ("expected every published port of the stack to be on loopback only, but "
                            + ", ".join(f"{b.service} {b.port} is bound to {b.host_ip}:{b.host_port}"
                                        for b in open_ports))
