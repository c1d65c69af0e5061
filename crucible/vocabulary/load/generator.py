"""Closed-loop HTTP load: N clients, each sending its next request as soon as its last one was answered.

Each client is a thread with one keep-alive connection of its own (urllib3), the way a load tool's
virtual user keeps one session. A load is bounded twice: by time (no request starts after the end;
with ``finish_within`` every request must also be answered by then) and by a maximum number of
requests; it stops by itself. It goes only to loopback addresses (the stack's published ports).
Every request carries an ``X-Request-ID`` of its own, so its service log lines can be found.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator, Mapping
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import (ConnectTimeoutError, HTTPError, NewConnectionError, ProtocolError,
                                ReadTimeoutError)

from crucible.errors import CrucibleError, TestDataError

log = logging.getLogger(__name__)

NOT_SENT = "not sent in time"
EVENT_GRACE_S = 120.0


@dataclass(frozen=True)
class Call:
    """One request a client sends: the operation it counts under, and what is sent."""

    operation: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    answers: frozenset[int] = frozenset()  # statuses that count as answered; empty: any 2xx or 3xx
    not_before: float = 0.0  # seconds into the load before which it is not sent (to spread calls out)

    def answered(self, status: int) -> bool:
        """True if the status counts as an answer (not a failure) for this call."""
        return status in self.answers if self.answers else 200 <= status < 400


@dataclass
class Sample:
    """What happened to one request: when it started (seconds into the load), how long it took, how it ended."""

    operation: str
    started: float
    latency_ms: float | None
    status: int | None
    error: str | None
    request_id: str
    body: bytes | None = None

    @property
    def failed(self) -> bool:
        """True if the request got no answer, or an answer its call does not accept."""
        return self.error is not None


@dataclass(frozen=True)
class Plan:
    """How much load: clients, seconds, a cap on requests, each request's timeout."""

    clients: int
    seconds: float
    max_requests: int
    timeout: float
    finish_within: bool = False
    keep_bodies: bool = False

    def check(self) -> None:
        """A TestDataError for an impossible load (no clients, no time, no requests)."""
        if self.clients < 1:
            raise TestDataError(f"A load needs at least 1 client, not {self.clients}.")
        if not self.seconds > 0:
            raise TestDataError(f"A load lasts more than 0 seconds, not {self.seconds:g}.")
        if self.max_requests < 1:
            raise TestDataError(f"A load sends at least 1 request, not {self.max_requests}.")


@dataclass
class Happening:
    """Something done while the load ran (a fault at a moment of the load), and how it went."""

    name: str
    at: float
    started: float | None = None
    finished: float | None = None
    error: BaseException | None = None


@dataclass
class LoadResult:
    """Every request of one load, what happened during it, and how long it ran."""

    title: str
    plan: Plan
    samples: list[Sample]
    started_at: datetime
    elapsed: float
    happenings: list[Happening] = field(default_factory=list)

    def operations(self) -> dict[str, list[Sample]]:
        """The samples per operation, in the order operations first appeared."""
        found: dict[str, list[Sample]] = {}
        for sample in self.samples:
            found.setdefault(sample.operation, []).append(sample)
        return found


def loopback_target(base_url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a base URL that points at this machine; anything else is refused."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        raise CrucibleError(f"Cannot resolve '{host}' of {base_url} for a load.") from None
    if not address.is_loopback:
        raise CrucibleError(f"A load goes only to the stack's own loopback ports; {base_url} is at {address}. "
                            f"Run the stack on a local engine (its ports are published on 127.0.0.1).")
    return parts.scheme, host, port


class _Feed:
    """The calls to send, shared by every client, and the request ids they get."""

    def __init__(self, calls: Iterator[Call], limit: int, id_prefix: str):
        self.calls, self.limit, self.prefix = calls, limit, id_prefix
        self.lock = threading.Lock()
        self.count = 0

    def next(self) -> tuple[Call, str] | None:
        """The next call and its request id, or None when there is none left or the cap is reached."""
        with self.lock:
            if self.count >= self.limit:
                return None
            call = next(self.calls, None)
            if call is None:
                return None
            self.count += 1
            return call, request_id(self.prefix, self.count)


def _error_kind(exc: BaseException) -> str:
    """A failure in a few words: timeout, connection refused, connection reset ..."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)) or isinstance(reason, (ReadTimeoutError,
                                                                                       ConnectTimeoutError)):
        return "timeout"
    if isinstance(exc, NewConnectionError) or isinstance(reason, NewConnectionError):
        return "connection refused"
    if isinstance(exc, ProtocolError) or isinstance(reason, ProtocolError):
        return "connection closed"
    return type(reason).__name__


def run(base_url: str, calls: Iterator[Call], plan: Plan, *, title: str, id_prefix: str,
        happenings: list[tuple[float, str, Callable[[], None]]] = ()) -> LoadResult:
    """Send the calls with ``plan.clients`` clients until time, calls or the cap run out; every sample kept.

    ``happenings`` are (seconds into the load, name, action): each action runs in a thread of its own
    at that moment while the load goes on (e.g. a fault); an action that fails is reported after the load.
    """
    plan.check()
    scheme, host, port = loopback_target(base_url)
    feed = _Feed(calls, plan.max_requests, id_prefix)
    samples: list[Sample] = []
    stop = threading.Event()
    start = time.perf_counter()
    deadline = start + plan.seconds
    started_at = datetime.now(timezone.utc)

    def client() -> None:
        pool = urllib3.HTTPConnectionPool(host, port, maxsize=1, block=False, retries=False) if scheme == "http" \
            else urllib3.HTTPSConnectionPool(host, port, maxsize=1, block=False, retries=False)
        mine: list[Sample] = []
        try:
            while not stop.is_set():
                now = time.perf_counter()
                if now >= deadline:
                    break
                item = feed.next()
                if item is None:
                    break
                due = start + item[0].not_before - time.perf_counter()
                if due > 0 and stop.wait(min(due, max(0.0, deadline - time.perf_counter()))):
                    break
                mine.append(_send(pool, *item, start, plan, deadline))
        finally:
            pool.close()
            samples.extend(mine)  # list.extend is atomic under the GIL

    threads = [threading.Thread(target=client, name=f"load-{n}", daemon=True) for n in range(plan.clients)]
    events = [_Happening(Happening(name, at), action, start, stop) for at, name, action in happenings]
    for thread in [*threads, *[e.thread for e in events]]:
        thread.start()
    bound = plan.seconds + (0.5 if plan.finish_within else plan.timeout) + 5.0
    for thread in threads:
        thread.join(max(0.1, start + bound - time.perf_counter()))
    stop.set()
    elapsed = time.perf_counter() - start
    if plan.finish_within:
        samples.extend(_not_sent(feed, plan))
    for event in events:
        event.thread.join(max(0.1, start + plan.seconds + EVENT_GRACE_S - time.perf_counter()))
    samples.sort(key=lambda s: s.started)
    log.info("%s: %d requests in %.1fs", title, len(samples), elapsed)
    return LoadResult(title, plan, samples, started_at, elapsed, [e.record for e in events])


def _send(pool, call: Call, request_id: str, start: float, plan: Plan, deadline: float) -> Sample:
    """Send one call and time it until its whole answer arrived."""
    sent = time.perf_counter()
    timeout = max(0.05, deadline - sent) if plan.finish_within else plan.timeout
    headers = {**call.headers, "X-Request-ID": request_id}
    if call.body is not None:
        headers.setdefault("Content-Type", "application/json")
    try:
        response = pool.urlopen(call.method, call.path, body=call.body, headers=headers,
                                timeout=urllib3.Timeout(total=timeout), redirect=False, preload_content=True)
    except HTTPError as exc:
        latency = (time.perf_counter() - sent) * 1000
        return Sample(call.operation, sent - start, latency, None, _error_kind(exc), request_id)
    latency = (time.perf_counter() - sent) * 1000
    status = response.status
    return Sample(call.operation, sent - start, latency, status, None if call.answered(status) else f"HTTP {status}",
                  request_id, response.data if plan.keep_bodies else None)


def _not_sent(feed: _Feed, plan: Plan) -> list[Sample]:
    """A failed sample for each call that never got its turn before the end (``finish_within``)."""
    missing = []
    while True:
        item = feed.next()
        if item is None:
            return missing
        call, request_id = item
        missing.append(Sample(call.operation, plan.seconds, None, None, NOT_SENT, request_id))


class _Happening:
    """An action run at a moment of the load, in its own thread."""

    def __init__(self, record: Happening, action: Callable[[], None], start: float, stop: threading.Event):
        self.record, self.action, self.start = record, action, start
        self.thread = threading.Thread(target=self._run, name=f"during-load-{record.name}", daemon=True)
        self.stop = stop

    def _run(self) -> None:
        wait = self.start + self.record.at - time.perf_counter()
        if wait > 0 and self.stop.wait(wait):
            self.record.error = CrucibleError(f"'{self.record.name}' was due {self.record.at:g}s into the load, "
                                              f"but the load had already ended")
            return
        self.record.started = time.perf_counter() - self.start
        try:
            self.action()
        except BaseException as exc:  # reported after the load, by the caller
            self.record.error = exc
        self.record.finished = time.perf_counter() - self.start


def request_id(prefix: str, number: int) -> str:
    """The X-Request-ID of the ``number``-th call (from 1) of a load whose ids start with ``prefix``."""
    return f"{prefix}-{number:05d}"


def repeat(make: Callable[[int], Call]) -> Iterator[Call]:
    """An endless stream of calls, the n-th made by ``make(n)``."""
    return (make(n) for n in itertools.count())
