"""Shared plumbing for the Crucible retail services: JSON logs, request ids, JSON errors, Postgres, health."""
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import unquote_to_bytes, urlsplit

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from flask import Flask, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import UnicodeConverter

SERVICE = os.environ.get("SERVICE_NAME", "service")
SCHEMA_LOCK_ID = 7_263_001  # pg_advisory_xact_lock key serialising schema creation across workers
MAX_INT = 2_147_483_647  # Postgres integer
MAX_CENTS = 100_000_000_000  # one billion in the currency: anything above is a typo
log = logging.getLogger(SERVICE)
_background = threading.local()  # request id of the event or sweep a background thread works on
_starters = []  # callables run once per gunicorn worker after fork (see gunicorn.conf.py)

# 12 to 19 digits, optionally separated by single spaces or dashes, not part of a longer word or id
# (a uuid's last group is not a card number): a card number's shape.
_PAN = re.compile(r"(?<![0-9A-Za-z_-])\d(?:[ -]?\d){11,18}(?![0-9A-Za-z_-])")


def mask_pan(text):
    """Replace every card-number-shaped digit run in text with stars and its last four digits."""
    def star(match):
        digits = re.sub(r"\D", "", match.group(0))
        return "*" * (len(digits) - 4) + digits[-4:]
    return _PAN.sub(star, text)


SENSITIVE_KEYS = {"number", "card_number", "pan", "cvv", "cvc"}  # always masked in logged bodies


def scrub(value, key=None):
    """Return value (any JSON) with card numbers masked: any field named like a card number, and every
    card-number-shaped string or integer, recursively."""
    if key in SENSITIVE_KEYS and value is not None and not isinstance(value, (dict, list)):
        digits = re.sub(r"\D", "", str(value))
        return "*" * max(len(digits) - 4, 3) + digits[-4:] if len(digits) > 4 else "****"
    if isinstance(value, str):
        return mask_pan(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return mask_pan(str(value)) if len(str(abs(value))) >= 12 else value
    if isinstance(value, dict):
        return {name: scrub(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def current_request_id():
    """The request id of the HTTP request or background unit of work this thread is handling."""
    if has_request_context():
        return g.get("request_id")
    return getattr(_background, "request_id", None)


@contextmanager
def request_id_scope(request_id):
    """Tag everything a background thread logs or emits inside the block with request_id."""
    previous = getattr(_background, "request_id", None)
    _background.request_id = request_id
    try:
        yield request_id
    finally:
        _background.request_id = previous


def utc_now():
    """The current time as an ISO-8601 UTC string with milliseconds."""
    return iso(datetime.now(timezone.utc))


def iso(moment):
    """Format a timestamptz from Postgres as ISO-8601 UTC (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """Render every log record as one JSON object per line."""

    def format(self, record):
        """Return the record as a JSON line with ts, level, service, request_id and message."""
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": SERVICE,
            "request_id": current_request_id(),
            "logger": record.name,
            "message": mask_pan(record.getMessage()),
            **scrub(getattr(record, "fields", {})),  # even an id that looks like a card number is masked
        }
        if record.exc_info:
            entry["exception"] = mask_pan(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def log_event(level, message, **fields):
    """Log message at level with extra JSON fields."""
    log.log(level, message, extra={"fields": fields})


def on_worker_start(function):
    """Register function to run in each gunicorn worker once it has forked (background threads)."""
    _starters.append(function)
    return function


def start_background():
    """Run every registered worker-start function (called by gunicorn's post_worker_init hook)."""
    for function in _starters:
        function()


class ApiError(Exception):
    """An error answered as {"error": message, **extra} with the given HTTP status."""

    def __init__(self, http_status, message, http_headers=None, **extra):
        super().__init__(message)
        self.status, self.body, self.headers = http_status, {"error": message, **extra}, http_headers or {}


class Database:
    """Lazy per-thread psycopg2 connections; each new connection applies the service schema."""

    def __init__(self, dsn, schema):
        self.dsn, self.schema = dsn, schema
        self._local = threading.local()

    def connect(self):
        """Open a connection (applying the schema), retrying briefly while Postgres is coming up."""
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                conn = psycopg2.connect(self.dsn, connect_timeout=2, application_name=SERVICE,
                                        keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
                break
            except psycopg2.OperationalError:
                if attempt == attempts:
                    raise
                time.sleep(0.2 * attempt)
        # A new connection applies the schema only if its last table (outbox) is missing: an empty
        # database (first start, or a Postgres that lost its data) heals itself, while a running
        # service never takes DDL locks that could deadlock with requests in flight. The advisory
        # lock serialises workers racing to create it; the script runs in one transaction.
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT to_regclass('public.outbox') IS NULL")
                if cur.fetchone()[0]:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
                    cur.execute(self.schema)
                    log_event(logging.INFO, "schema created")
        except psycopg2.Error:
            conn.close()
            raise
        return conn

    def _connection(self):
        """Return this thread's open connection, reconnecting if it was closed or (after being idle
        for a second) no longer answers, e.g. because Postgres restarted."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and time.monotonic() - self._local.used > 1.0:
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                conn.rollback()
            except psycopg2.Error:
                conn.close()
        if conn is None or conn.closed:
            conn = self._local.conn = self.connect()
        self._local.used = time.monotonic()
        return conn

    @contextmanager
    def transaction(self):
        """Yield a dict cursor in a transaction that commits on success and rolls back on error."""
        conn = self._connection()
        try:
            with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
        except psycopg2.OperationalError as exc:
            if not isinstance(exc, psycopg2.extensions.TransactionRollbackError):
                conn.close()  # a broken connection is replaced on the next call
            raise

    def ping(self):
        """Run SELECT 1 on the service database (raises psycopg2.Error when unavailable)."""
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    def warm_up(self, deadline=120):
        """Create the schema in a background thread as soon as the database answers."""

        def run():
            """Retry ping() until it succeeds or the deadline passes."""
            give_up = time.monotonic() + deadline
            reported = False
            while True:
                try:
                    self.ping()
                    return log_event(logging.INFO, "database ready")
                except psycopg2.Error as exc:
                    if time.monotonic() > give_up:
                        return log_event(logging.ERROR, "database still unavailable", error=str(exc).strip())
                    if not reported:
                        log_event(logging.WARNING, "database not ready yet", error=str(exc).strip())
                        reported = True
                    time.sleep(0.25)

        threading.Thread(target=run, name="db-warm-up", daemon=True).start()


def newest_first(cur, table, filters, limit):
    """Up to limit rows of table, newest first, matching column = value for every filter not None."""
    matching = {column: value for column, value in filters.items() if value is not None}
    where = ("WHERE " + " AND ".join(f"{column} = %s" for column in matching)) if matching else ""
    cur.execute(f"SELECT * FROM {table} {where} ORDER BY created_at DESC, id LIMIT %s", (*matching.values(), limit))
    return cur.fetchall()


# ---------------------------------------------------------------- request validation

def json_body():
    """Return the request body parsed as a JSON object, else raise a 400 ApiError."""
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ApiError(400, "request body must be valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def require(obj, name, kind, where="", minimum=None, maximum=None):
    """Return obj[name] if it is a non-empty str / a non-bool int / an object as kind says, else 400."""
    if obj.get(name) is None:
        raise ApiError(400, f"{where}{name} is required")
    return check_type(obj[name], f"{where}{name}", kind, minimum, maximum)


def optional(obj, name, kind, default=None, where="", minimum=None, maximum=None):
    """Like require, but a missing or null field gives default."""
    if obj.get(name) is None:
        return default
    return check_type(obj[name], f"{where}{name}", kind, minimum, maximum)


def check_type(value, label, kind, minimum=None, maximum=None):
    """Return value if it has the JSON type kind (str, int, dict, list) and bounds, else raise 400."""
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ApiError(400, f"{label} must be an integer")
        low = -MAX_INT if minimum is None else minimum
        high = MAX_INT if maximum is None else maximum
        if value < low:
            raise ApiError(400, f"{label} must be at least {low}")
        if value > high:
            raise ApiError(400, f"{label} must be at most {high}")
    elif kind is str:
        if not isinstance(value, str) or not value.strip():
            raise ApiError(400, f"{label} must be a non-empty string")
        if "\x00" in value or len(value) > 200:
            raise ApiError(400, f"{label} must be at most 200 characters without NUL bytes")
    elif kind is dict and not isinstance(value, dict):
        raise ApiError(400, f"{label} must be an object")
    elif kind is list and not isinstance(value, list):
        raise ApiError(400, f"{label} must be a list")
    return value


def parse_items(body, prices=False):
    """Return body["items"] as a non-empty list of {"sku", "quantity"(, "unit_price_cents")}, else 400.

    Quantities are only type-checked here: a zero or negative quantity is a business rejection
    the caller decides about.
    """
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "items must be a non-empty list")
    if len(items) > 100:
        raise ApiError(400, "items must have at most 100 entries")
    parsed = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"items[{i}] must be an object")
        where = f"items[{i}]."
        entry = {"sku": require(item, "sku", str, where),
                 "quantity": require(item, "quantity", int, where, minimum=-1_000_000, maximum=1_000_000)}
        if prices:
            entry["unit_price_cents"] = require(item, "unit_price_cents", int, where, minimum=0,
                                                maximum=MAX_CENTS)
        parsed.append(entry)
    return parsed


def query_limit():
    """The ?limit= query parameter (1-500, default 100) as an integer, else 400."""
    limit = request.args.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise ApiError(400, "limit must be an integer from 1 to 500")
    return int(limit)


def parse_review(body):
    """Return (decision, note) of a staff review body: decision "approve" or "decline", note optional."""
    decision = require(body, "decision", str)
    if decision not in ("approve", "decline"):
        raise ApiError(400, "decision must be \"approve\" or \"decline\"")
    return decision, optional(body, "note", str)


def idempotency_key():
    """Return the request's Idempotency-Key header (1-200 printable characters), else 400."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise ApiError(400, "the Idempotency-Key header is required")
    if len(key) > 200 or not key.isprintable():
        raise ApiError(400, "the Idempotency-Key header must be 1-200 printable characters")
    return key


def request_hash(value):
    """sha256 of a canonical JSON form of value (what a repeated Idempotency-Key must match)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def replay(body, status):
    """Answer a repeated Idempotency-Key with its first result."""
    return jsonify(body), status, {"Idempotent-Replayed": "true"}


def luhn_valid(number):
    """True if number (digits only) passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def parse_card(body):
    """Return the digits of body["card"]["number"] if it is a Luhn-valid 12-19 digit number, else 400."""
    card = require(body, "card", dict)
    raw = card.get("number")
    if raw is None:
        raise ApiError(400, "card.number is required")
    if not isinstance(raw, str):
        raise ApiError(400, "card.number must be a string of digits", reason="invalid card")
    digits = re.sub(r"[ -]", "", raw)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not digits.isascii():
        raise ApiError(400, "card.number must be 12 to 19 digits", reason="invalid card")
    if not luhn_valid(digits):
        raise ApiError(400, "card.number fails the Luhn check", reason="invalid card")
    return digits


def card_fingerprint(digits):
    """sha256 hex of a card number's digits: how payments and fraud's blocklist name a card."""
    return hashlib.sha256(digits.encode()).hexdigest()


# ---------------------------------------------------------------- path segments that hold a slash

_SEGMENT_ESCAPE = re.compile(r"%(25|2F)")


class SegmentPaths:
    """WSGI middleware: an id that holds a slash (a store "berlin/mitte", sent as berlin%2Fmitte) stays one path
    segment. The server decodes %2F into "/" before routing, so a route such as /stock/<store>/<sku> would never
    match; this rebuilds PATH_INFO from the raw request URI with "%" and "/" inside each segment escaped again,
    and SegmentConverter (every route's default converter) unescapes them in the value the view gets."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            path = urlsplit(raw).path if "://" in raw else raw.split("?", 1)[0]
            script = environ.get("SCRIPT_NAME", "")
            if not script or path.startswith(script):
                segments = path[len(script):].split("/")
                environ["PATH_INFO"] = "/".join(
                    unquote_to_bytes(part.encode("latin-1", "replace")).replace(b"%", b"%25").replace(b"/", b"%2F").decode("latin-1")
                    for part in segments)
        return self.app(environ, start_response)


class SegmentConverter(UnicodeConverter):
    """A path segment whose "%2F" and "%25" (escaped by SegmentPaths) are "/" and "%" again."""

    def to_python(self, value):
        return _SEGMENT_ESCAPE.sub(lambda found: "%" if found.group(1) == "25" else "/", value)


# ---------------------------------------------------------------- the Flask app

def create_app(db, openapi, readiness_checks=()):
    """Build a Flask app with request ids, auth, access logs, JSON errors, health and OpenAPI endpoints.

    readiness_checks: callables returning (name, ok, detail) evaluated by /health/ready
    besides the database check.
    """
    from auth import authenticate  # local import: auth imports this module

    app = Flask(SERVICE)
    app.json.sort_keys = False
    app.url_map.converters["default"] = SegmentConverter
    app.wsgi_app = SegmentPaths(app.wsgi_app)

    @app.before_request
    def assign_request_id():
        """Adopt the caller's X-Request-ID or generate a fresh uuid4, then authenticate."""
        supplied = request.headers.get("X-Request-ID", "").strip()
        g.request_id = supplied[:200] if supplied and supplied.isprintable() else str(uuid.uuid4())
        g.started = time.monotonic()
        if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
            raise ApiError(400, "the path and query must not contain NUL bytes")
        public = request.path.startswith("/health/") or request.path == "/openapi.json"
        if request.url_rule is not None and not public:
            g.principal = authenticate(request.headers.get("Authorization"))

    @app.after_request
    def finish(response):
        """Echo X-Request-ID and write the JSON access line (health probes only at debug level)."""
        response.headers["X-Request-ID"] = g.get("request_id", "")
        level = logging.DEBUG if request.path.startswith("/health/") else logging.INFO
        duration_ms = round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1)
        fields = {"method": request.method, "path": mask_pan(request.path), "status": response.status_code,
                  "duration_ms": duration_ms}
        if request.query_string:
            fields["query"] = mask_pan(request.query_string.decode("utf-8", "replace"))
        principal = g.get("principal")
        if principal is not None:
            fields["subject"], fields["role"] = principal.sub, principal.role
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.content_length:
            body = request.get_json(force=True, silent=True)
            fields["body"] = scrub(body) if body is not None else "(not JSON)"
        log_event(level, "request completed", **fields)
        return response

    @app.errorhandler(ApiError)
    def api_error(exc):
        """Answer an ApiError with its JSON body and status."""
        return jsonify(exc.body), exc.status, exc.headers

    @app.errorhandler(HTTPException)
    def http_error(exc):
        """Answer 404, 405 and other werkzeug errors as JSON instead of HTML."""
        return jsonify(error=exc.name.lower()), exc.code

    @app.errorhandler(psycopg2.OperationalError)
    @app.errorhandler(psycopg2.InterfaceError)
    def database_error(exc):
        """Answer a lost or unreachable database with 503."""
        log_event(logging.ERROR, "database unavailable", error=str(exc).strip())
        return jsonify(error="database unavailable"), 503

    @app.errorhandler(psycopg2.extensions.TransactionRollbackError)
    def conflict_error(exc):
        """Answer a deadlock or serialisation failure with 409: the caller may retry."""
        log_event(logging.WARNING, "transaction conflict", error=str(exc).strip())
        return jsonify(error="conflict with a concurrent request, retry"), 409

    @app.errorhandler(psycopg2.DataError)
    def data_error(exc):
        """Answer a value Postgres refuses (out of range, bad encoding) with 400."""
        log_event(logging.WARNING, "value refused by the database", error=str(exc).strip())
        return jsonify(error="a value is out of range or malformed"), 400

    @app.errorhandler(Exception)
    def internal_error(exc):
        """Log any unhandled exception and answer 500 JSON."""
        log.exception("unhandled error")
        return jsonify(error="internal server error"), 500

    @app.get("/health/live")
    def live():
        """Liveness: the process serves HTTP."""
        return jsonify(status="live")

    @app.get("/health/ready")
    def ready():
        """Readiness: SELECT 1 on the service's own database works and every other check passes."""
        checks, failures = {}, []
        try:
            db.ping()
            checks["database"] = "ok"
        except psycopg2.Error as exc:
            checks["database"] = str(exc).strip() or type(exc).__name__
            failures.append("database")
        for check in readiness_checks:
            name, ok, detail = check()
            checks[name] = "ok" if ok else detail
            if not ok:
                failures.append(name)
        if failures:
            return jsonify(status="unavailable", error=f"{', '.join(failures)} unavailable", checks=checks), 503
        return jsonify(status="ready", checks=checks)

    @app.get("/openapi.json")
    def openapi_document():
        """The service's OpenAPI 3.0.3 document."""
        return jsonify(openapi)

    return app
