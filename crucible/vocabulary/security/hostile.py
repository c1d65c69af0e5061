"""Hostile input is harmless: injection and oversized values in every string field of every operation.

For each operation a contract protects, every string input (path and query parameters, and every
field of the JSON body) gets, one at a time, SQL injection, header (CRLF) injection, a path
traversal, a very long string and a NUL byte; body fields also get the wrong JSON types (a number,
a boolean, a list, an object). The body holds the schema's required fields (plain values of the
right shape) and the field under attack; the call is made as the last role its ``x-roles`` names. Each answer must:

* not be a 5xx (or no answer at all);
* show no stack trace and no SQL or database-driver text (the value sent is removed before looking);
* carry no header the value tried to inject;
* and, when the service refused the input (400, 413, 414, 415, 431, or 401/403/404/405: nothing was
  done), leave nothing of it in the service's database: every value sent carries a marker, and after
  the sweep every table of the service's database is searched for the markers of refused requests.

The sweep is bounded: nine values per field, requests sent four at a time.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

from crucible.errors import CrucibleError, HttpError, TestDataError
from crucible.vocabulary import database
from crucible.vocabulary.security.contract import Field, Operation, example
from crucible.vocabulary.security.probe import Probe

log = logging.getLogger(__name__)

WORKERS = 4
LONG = 20_000
LONG_IN_URL = 5_000
REFUSED = {400, 401, 403, 404, 405, 413, 414, 415, 431}
INJECTED_HEADER = "X-Injected"
STACK_TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|^\s+at [\w.$]+\(\w+\.java:\d+\)"
                         r"|Exception in thread|goroutine \d+ \[running\]", re.MULTILINE)
SQL_TEXT = re.compile(r"\bSELECT\b.{0,200}\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|"
                      r"syntax error at or near|psycopg|SQLSTATE|sqlite3?\.|ORA-\d{5}|relation \"\w+\" does not exist|"
                      r"violates (?:unique|foreign key|not-null|check) constraint|pq: |PG::|java\.sql\.", re.IGNORECASE)


@dataclass(frozen=True)
class Payload:
    """One kind of hostile value: its name, how it is made around a marker, and where it fits."""

    kind: str
    make: Callable[[str, str], Any]
    places: tuple[str, ...] = ("path", "query", "body")


def _long(marker: str, where: str) -> str:
    return marker + "A" * (LONG_IN_URL if where != "body" else LONG)


PAYLOADS = (
    Payload("SQL injection", lambda m, w: f"{m}' OR '1'='1"),
    Payload("SQL statement", lambda m, w: f"{m}'); DROP TABLE users; --"),
    Payload("header injection", lambda m, w: f"{m}\r\n{INJECTED_HEADER}: {m}"),
    Payload("path traversal", lambda m, w: f"{m}/../../../../etc/passwd"),
    Payload("very long string", _long),
    Payload("NUL byte", lambda m, w: f"{m}\x00"),
    Payload("a number instead of a string", lambda m, w: 12345, ("body",)),
    Payload("true instead of a string", lambda m, w: True, ("body",)),
    Payload("a list instead of a string", lambda m, w: [m], ("body",)),
    Payload("an object instead of a string", lambda m, w: {"value": m}, ("body",)),
)
WRONG_TYPES = {payload.kind for payload in PAYLOADS if payload.places == ("body",)}


@dataclass
class Attempt:
    """One hostile request and what became of it."""

    number: int
    operation: str
    field: Field
    kind: str
    marker: str
    status: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """True when the service refused the input: nothing of it may have been kept."""
        return self.status in REFUSED

    def describe(self) -> str:
        """The attempt in words, for messages."""
        shown = "no answer" if self.status is None else str(self.status)
        return f"{self.operation} with {self.kind} in {self.field} -> {shown}"


def _set(body: Any, path: str, value: Any) -> None:
    """Set a field of a JSON body by its path (``items[0].sku``)."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    target = body
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    last = parts[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value


def plan(operations: list[Operation]) -> list[tuple[Operation, Field, Payload, int]]:
    """Every (operation, string field, payload, request number) the sweep sends."""
    planned = []
    for operation in operations:
        if operation.public or not operation.roles:
            continue
        for found in operation.fields():
            if found.kind != "string":
                continue
            for payload in PAYLOADS:
                if found.where in payload.places:
                    planned.append((operation, found, payload, len(planned) + 1))
    return planned


def _path(operation: Operation, target: Field, value: str, marker: str) -> str:
    """The operation's path: the target parameter holds the value, every other one the marker."""
    path = operation.path
    for name in operation.path_parameters():
        path = path.replace("{" + name + "}", quote(value if target.where == "path" and name == target.name
                                                    else marker, safe=""))
    return path


def _request(probe: Probe, service: str, operation: Operation, target: Field, payload: Payload,
             number: int) -> Attempt:
    """Send one hostile request and judge the answer (the database is searched after the sweep)."""
    marker = f"hx{probe.uid}r{number}z"
    value = payload.make(marker, target.where)
    attempt = Attempt(number, operation.name, target, payload.kind, marker)
    path = _path(operation, target, value, marker)
    params = {target.name: value} if target.where == "query" else None
    body = None
    if operation.body is not None:
        body = example(operation.body, marker, target.name if target.where == "body" else None)
        if target.where == "body":
            _set(body, target.name, value)
    role = operation.roles[-1]
    headers = {**operation.headers(marker), **probe.as_role(role).headers}
    try:
        response = probe.client(service).request(operation.method, path, json=body, params=params, headers=headers)
    except HttpError as exc:
        attempt.problems.append(f"got no answer: {exc}")
        return attempt
    except ValueError as exc:  # the client itself refuses to send it (e.g. a line break in a header)
        attempt.problems.append(f"could not be sent: {exc}")
        return attempt
    attempt.status = response.status_code
    attempt.problems += judge(response.status_code, response.headers, response.text, value)
    return attempt


def judge(status: int, headers, text: str, sent: Any) -> list[str]:
    """What is wrong with an answer to a hostile value: a 5xx, a stack trace, SQL text, an injected header."""
    problems = []
    if status >= 500:
        problems.append(f"answered {status}")
    shown = text
    for form in {str(sent), json.dumps(sent)[1:-1]} if isinstance(sent, str) else ():
        shown = shown.replace(form, "")
    if STACK_TRACE.search(shown):
        problems.append("showed a stack trace")
    if SQL_TEXT.search(shown):
        problems.append(f"showed database text ({SQL_TEXT.search(shown).group(0)[:60]!r})")
    if any(name.lower() == INJECTED_HEADER.lower() for name in headers):
        problems.append(f"answered with the injected header {INJECTED_HEADER}")
    return problems


def stored_markers(probe: Probe, service: str, prefix: str) -> set[int] | None:
    """The request numbers whose markers are anywhere in the service's database; None when it has none known."""
    try:
        dsn = database.service_dsn(probe.stack, probe.settings, service)
    except TestDataError:
        return None
    found: set[int] = set()
    pattern = re.compile(re.escape(prefix) + r"(\d+)z")
    for table in database.tables(dsn, service):
        rows = database.query(dsn, f"SELECT t::text AS row FROM {table} t WHERE t::text LIKE %(like)s", service,
                              {"like": f"%{prefix}%"})
        for row in rows.rows:
            found |= {int(number) for number in pattern.findall(row["row"])}
    return found


def sweep(probe: Probe, service: str, operations: list[Operation] | None = None) -> tuple[list[Attempt], str]:
    """Send every hostile value to every string field; return the attempts and what the database check did."""
    contract = probe.contract(service)
    planned = plan(operations or contract.operations)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="hostile") as pool:
        attempts = list(pool.map(lambda item: _request(probe, service, *item), planned))
    try:
        stored = stored_markers(probe, service, f"hx{probe.uid}r")
    except CrucibleError as exc:
        return attempts, f"the database of '{service}' could not be searched: {exc}"
    if stored is None:
        return attempts, f"no database is known for '{service}' (set [databases.{service}]): not searched"
    for attempt in attempts:
        if attempt.refused and attempt.number in stored:
            attempt.problems.append("was refused, yet what it sent is in the database")
    return attempts, f"the database of '{service}' was searched for the {len(attempts)} values sent"


def table(attempts: list[Attempt]) -> str:
    """The sweep as CSV: operation, field, value, answer, problems."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["operation", "field", "value", "answer", "problems"])
    for attempt in attempts:
        writer.writerow([attempt.operation, str(attempt.field), attempt.kind,
                         attempt.status if attempt.status is not None else "none", "; ".join(attempt.problems) or "-"])
    return out.getvalue()


def expect(attempts: list[Attempt], service: str) -> None:
    """Fail naming every hostile request that did harm."""
    wrong = [attempt for attempt in attempts if attempt.problems]
    assert not wrong, (f"expected every '{service}' operation to handle hostile input harmlessly, but {len(wrong)} of "
                       f"{len(attempts)} hostile requests did harm:\n  "
                       + "\n  ".join(f"{a.describe()}: {'; '.join(a.problems)}" for a in wrong[:20]))
