"""Read-only SQL on a service's own database, and the comparison of its rows with a table.

The connection comes from the settings (``[databases.SERVICE]``), else the service's
``DATABASE_URL`` from its compose environment, e.g.
``postgresql://inventory:PASSWORD@postgres:5432/inventory``, else the ``POSTGRES_USER``/
``POSTGRES_PASSWORD``/``POSTGRES_DB`` of a PostgreSQL service, with the database host and port
(a compose service name and its container port) replaced by where the stack published that
port. Every query runs in a READ ONLY transaction that is rolled back, with a 5 second limit.

In an expected table each cell holds the text of a value (``5``, ``north-ab12``, ``true``;
NULL is ``null``; timestamps in ISO-8601) or a marker (``@uuid@``, ``@datetime@``,
``@regex(^A)@`` ...). Only the columns the table names are compared; rows are compared in
order, so queries that return several rows should say ``ORDER BY``.

Queries are sent in UTF-8. A database made without a locale (``SQL_ASCII``, what Debian's
default ``initdb`` makes) stores text as the bytes clients sent and converts nothing; its text
columns are read as UTF-8 (bytes that are not UTF-8 show as U+FFFD) instead of as raw bytes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from uuid import UUID

import psycopg
from psycopg.adapt import Loader
from hamcrest.core.base_matcher import BaseMatcher
from hamcrest.core.description import Description
from hamcrest.core.matcher import Matcher

from crucible.vocabulary import polling
from crucible.errors import DatabaseError, ServiceNotFound, TestDataError
from crucible.vocabulary.matchers import compare, marker

log = logging.getLogger(__name__)

QUERY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5
SCHEMES = {"postgres", "postgresql"}
# databases whose URLs a team may write, which the SQL steps do not read (yet): named in the message
OTHER_DATABASES = {"mysql": "MySQL", "mariadb": "MariaDB", "sqlserver": "SQL Server", "mssql": "SQL Server",
                   "oracle": "Oracle", "sqlite": "SQLite", "mongodb": "MongoDB", "redis": "Redis"}
TEXT_TYPES = ("text", "varchar", "bpchar", "name", '"char"')
UNKNOWN_TYPE = 0  # types without a loader of their own (enums, extensions' types) are read as text


def service_dsn(stack, settings, service: str) -> str:
    """The connection URL of a service's database, pointed at where the stack publishes it.

    From the settings (``[databases.SERVICE]`` ``dsn`` or ``service``), else the service's own
    DATABASE_URL, else its POSTGRES_* variables when the service is the database itself.
    """
    url, origin = database_source(stack.project, settings, service)
    parts = urlsplit(url)
    published = urlsplit(stack.url(parts.hostname, parts.port or 5432))
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{published.netloc}" if userinfo else published.netloc
    return urlunsplit(("postgresql", netloc, parts.path, parts.query, ""))


def database_source(project, settings, service: str) -> tuple[str, str]:
    """Where a service's database is, as the compose file names it (before anything starts): its URL and
    where that came from. A TestDataError (or ServiceNotFound) says what is wrong and what to set."""
    services = project.services
    if service not in services:
        raise ServiceNotFound(f"The stack has no service '{service}' (services: {', '.join(sorted(services))}).")
    configured = settings.database(service)
    if configured.get("dsn"):
        return _checked_dsn(project, configured["dsn"], settings.where(f"databases.{service}.dsn"))
    owner = configured.get("service") or service
    if owner not in services:
        raise ServiceNotFound(f"{settings.where(f'databases.{service}.service')} names '{owner}', which is not a "
                              f"service of {project.path} (services: {', '.join(sorted(services))}).")
    env = services[owner].environment
    if owner == service and env.get("DATABASE_URL"):
        return _checked_dsn(project, env["DATABASE_URL"], f"DATABASE_URL of service '{service}' in {project.path}")
    if "POSTGRES_PASSWORD" in env or "POSTGRES_USER" in env or "postgres" in services[owner].image.lower():
        user = env.get("POSTGRES_USER") or "postgres"
        database = configured.get("database") or env.get("POSTGRES_DB") or user
        password = env.get("POSTGRES_PASSWORD", "")
        url = f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{owner}:5432/{quote(database, safe='')}"
        return _checked_dsn(project, url, f"POSTGRES_* variables of service '{owner}'")
    where = f"service '{owner}'" if owner == service else f"service '{owner}' (named by [databases.{service}])"
    raise TestDataError(f"The database of service '{service}' is unknown: {where} has no DATABASE_URL and no "
                        f"POSTGRES_* variables in {project.path}. Name it in the settings: [databases.{service}] "
                        f"dsn = \"postgresql://USER:PASSWORD@HOST:5432/NAME\" or service = \"DB_SERVICE\".")


def _checked_dsn(project, url: str, origin: str) -> tuple[str, str]:
    """A PostgreSQL URL whose host is a service of the stack (what SQL steps can reach), else a TestDataError."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0].lower()
    if scheme in OTHER_DATABASES:
        raise TestDataError(f"{origin} is a {scheme}:// URL ({safe_dsn(url)}), and this build of Crucible's SQL "
                            f"steps reads PostgreSQL only ({OTHER_DATABASES[scheme]} is not supported yet): point "
                            f"it at a PostgreSQL database, or leave the SQL steps out of the features.")
    if scheme not in SCHEMES or not parts.hostname:
        raise TestDataError(f"{origin} is not a postgresql://USER:PASSWORD@HOST:PORT/NAME URL: {safe_dsn(url)}")
    if parts.hostname not in project.services:
        raise TestDataError(f"{origin} points at host '{parts.hostname}', which is not a service of {project.path} "
                            f"(services: {', '.join(sorted(project.services))}): name the database's service "
                            f"as the host, as the stack's own services reach it.")
    return url, origin


def safe_dsn(dsn: str) -> str:
    """A connection URL with its password masked, for messages."""
    parts = urlsplit(dsn)
    return dsn.replace(f":{parts.password}@", ":***@", 1) if parts.password else dsn


@dataclass
class Rows:
    """The result of one query: its column names and rows as JSON-like values."""

    columns: list[str]
    rows: list[dict[str, Any]]

    def render(self) -> str:
        """The rows as a small text table, for messages."""
        if not self.rows:
            return f"no rows (columns: {', '.join(self.columns)})"
        lines = [" | ".join(self.columns)]
        lines += [" | ".join(as_text(row[c]) for c in self.columns) for row in self.rows[:20]]
        more = [f"... {len(self.rows) - 20} more rows"] if len(self.rows) > 20 else []
        return "\n".join(lines + more)


def _json_value(value: Any) -> Any:
    """A database value as a JSON-like value: timestamps in ISO-8601, decimals as numbers, UUIDs as text."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def as_text(value: Any) -> str:
    """The text a table cell shows for a value: ``null``, ``true``, JSON for objects and arrays."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def query(dsn: str, sql: str, service: str = "", params: dict[str, Any] | None = None) -> Rows:
    """Run one SQL query (with ``%(name)s`` parameters, if given) in a READ ONLY transaction (rolled back)."""
    options = f"-c statement_timeout={QUERY_TIMEOUT_MS} -c default_transaction_read_only=on"
    try:
        with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, options=options,
                             client_encoding="utf8") as conn:
            conn.read_only = True
            read_text_as_utf8(conn)
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                if cursor.description is None:
                    raise TestDataError(f"The query on the '{service}' database returned no rows at all "
                                        f"(is it a SELECT?): {sql}")
                columns = [column.name for column in cursor.description]
                rows = [{c: _json_value(v) for c, v in zip(columns, record)} for record in cursor.fetchall()]
            conn.rollback()
    except psycopg.errors.ReadOnlySqlTransaction:
        raise TestDataError(f"Steps may only read databases; this query tries to write: {sql}") from None
    except (psycopg.ProgrammingError, psycopg.DataError) as exc:
        raise TestDataError(f"The query on the '{service}' database failed: {str(exc).strip()}\n    {sql}") from None
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"Cannot query the '{service}' database at {safe_dsn(dsn)}: {str(exc).strip()}") from None
    log.debug("%s -> %d row(s)", sql, len(rows))
    return Rows(columns, rows)


class Utf8TextLoader(Loader):
    """Reads a text value of a SQL_ASCII database (bytes as some client sent them) as UTF-8 text."""

    def load(self, data) -> str:
        return bytes(data).decode("utf-8", "replace")


def read_text_as_utf8(conn: psycopg.Connection) -> None:
    """Make a connection to a SQL_ASCII database return its text columns as text, whatever bytes they hold."""
    if conn.info.parameter_status("server_encoding") != "SQL_ASCII":
        return
    for name in (*TEXT_TYPES, UNKNOWN_TYPE):
        conn.adapters.register_loader(name, Utf8TextLoader)


class TextEquals(BaseMatcher):
    """Matches a database value whose table-cell text (see :func:`as_text`) is the given text."""

    def __init__(self, text: str):
        self.text = text

    def _matches(self, item: Any) -> bool:
        return as_text(item) == self.text

    def describe_to(self, description: Description) -> None:
        description.append_text(self.text)


def text_equals(text: str) -> Matcher:
    """Matches a value shown in a table cell as ``text``.

    Example::

        assert_that(5, text_equals("5"))
    """
    return TextEquals(text)


def expect_rows(rows: Rows, headings: list[str], cells: list[list[str]], sql: str) -> None:
    """Fail unless the rows have the table's values in the named columns, in order."""
    unknown = [h for h in headings if h not in rows.columns]
    if unknown:
        raise TestDataError(f"The expected table names columns the query does not return: {', '.join(unknown)} "
                            f"(it returns: {', '.join(rows.columns)})\n    {sql}")
    expected = [{h: marker(cell) or text_equals(cell) for h, cell in zip(headings, row)} for row in cells]
    problems = compare(expected, rows.rows, "rows", exact=False)
    assert not problems, ("\n".join(problems[:10]) + f"\nThe query returned other rows than expected:\n    {sql}\n"
                          f"Actual rows:\n{rows.render()}")


def tables(dsn: str, service: str = "") -> list[str]:
    """Every table of a database, quoted as SQL needs it (``public.orders``), in order."""
    rows = query(dsn, "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM "
                      "information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
                      "('pg_catalog', 'information_schema') ORDER BY 1", service)
    return [row["name"] for row in rows.rows]


def query_service(stack, settings, service: str, sql: str) -> Rows:
    """Run a read-only query on a service's own database."""
    return query(service_dsn(stack, settings, service), sql, service)


def expect_no_rows(rows: Rows, sql: str) -> None:
    """Fail if the query returned rows."""
    assert not rows.rows, f"expected no rows from\n    {sql}\nbut got:\n{rows.render()}"


def poll_rows(stack, settings, service: str, sql: str, headings: list[str], cells: list[list[str]],
              timeout: float) -> Rows:
    """Query again and again until the rows are as expected, or time runs out."""
    return polling.eventually(lambda: query_service(stack, settings, service, sql),
                              lambda rows: expect_rows(rows, headings, cells, sql), timeout,
                              describe=lambda rows: "\n" + rows.render())
