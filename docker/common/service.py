"""Shared plumbing for the Crucible demo services: JSON logs, request ids, JSON errors, Postgres."""
import json
import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg2
import psycopg2.extras
from flask import Flask, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

SERVICE = os.environ.get("SERVICE_NAME", "service")
SCHEMA_LOCK_ID = 7_263_001  # pg_advisory_xact_lock key serialising schema creation across workers
log = logging.getLogger(SERVICE)


class JsonFormatter(logging.Formatter):
    """Render every log record as one JSON object per line."""

    def format(self, record):
        """Return the record as a JSON line with ts, level, service, request_id and message."""
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": SERVICE,
            "request_id": g.get("request_id") if has_request_context() else None,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_event(level, message, **fields):
    """Log message at level with extra JSON fields."""
    log.log(level, message, extra={"fields": fields})


class ApiError(Exception):
    """An error answered as {"error": message, **extra} with the given HTTP status."""

    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status, self.body = status, {"error": message, **extra}


class Database:
    """Lazy per-thread psycopg2 connections; each new connection applies the service schema."""

    def __init__(self, dsn, schema):
        self.dsn, self.schema = dsn, schema
        self._local = threading.local()

    def _connect(self, attempts=3):
        """Open a connection and apply the schema, retrying briefly while Postgres is coming up."""
        for attempt in range(1, attempts + 1):
            try:
                conn = psycopg2.connect(self.dsn, connect_timeout=2, application_name=SERVICE,
                                        keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
                break
            except psycopg2.OperationalError:
                if attempt == attempts:
                    raise
                time.sleep(0.2 * attempt)
        # Every new connection (re)applies the idempotent schema, so a restarted, empty Postgres
        # heals itself; the advisory lock serialises workers racing on CREATE TABLE IF NOT EXISTS.
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
                cur.execute(self.schema)
        except psycopg2.Error:
            conn.close()
            raise
        return conn

    def _connection(self):
        """Return this thread's open connection, reconnecting if it was closed."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def transaction(self):
        """Yield a dict cursor in a transaction that commits on success and rolls back on error."""
        conn = self._connection()
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            yield cur

    def ping(self):
        """Run SELECT 1 on the service database (raises psycopg2.Error when unavailable)."""
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    def warm_up(self, deadline=120):
        """Create the schema in a background thread as soon as the database answers."""

        def run():
            """Retry ping() once a second until it succeeds or the deadline passes."""
            give_up = time.monotonic() + deadline
            while True:
                try:
                    self.ping()
                    return log_event(logging.INFO, "database ready, schema applied")
                except psycopg2.Error as exc:
                    if time.monotonic() > give_up:
                        return log_event(logging.ERROR, "database still unavailable", error=str(exc).strip())
                    log_event(logging.WARNING, "database not ready yet", error=str(exc).strip())
                    time.sleep(1)

        threading.Thread(target=run, name="db-warm-up", daemon=True).start()


def json_body():
    """Return the request body parsed as a JSON object, else raise a 400 ApiError."""
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ApiError(400, "request body must be valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def require(obj, name, kind, where=""):
    """Return obj[name] if it is a (non-empty) str or a (non-bool) int as kind says, else raise 400."""
    if obj.get(name) is None:
        raise ApiError(400, f"{where}{name} is required")
    value = obj[name]
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ApiError(400, f"{where}{name} must be an integer")
    if kind is str and (not isinstance(value, str) or not value.strip()):
        raise ApiError(400, f"{where}{name} must be a non-empty string")
    return value


def parse_items(body):
    """Return body["items"] as a list of {"sku": str, "quantity": int}, else raise 400."""
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "items must be a non-empty list")
    parsed = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"items[{i}] must be an object")
        where = f"items[{i}]."
        parsed.append({"sku": require(item, "sku", str, where), "quantity": require(item, "quantity", int, where)})
    return parsed


def create_app(db):
    """Build a Flask app with request ids, access logs, JSON errors and health endpoints."""
    app = Flask(SERVICE)

    @app.before_request
    def assign_request_id():
        """Adopt the caller's X-Request-ID or generate a fresh uuid4."""
        g.request_id = request.headers.get("X-Request-ID", "").strip()[:200] or str(uuid.uuid4())
        g.started = time.monotonic()

    @app.after_request
    def finish(response):
        """Echo X-Request-ID and write the JSON access line (health probes only at debug level)."""
        response.headers["X-Request-ID"] = g.get("request_id", "")
        level = logging.DEBUG if request.path.startswith("/health/") else logging.INFO
        duration_ms = round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1)
        log_event(level, "request completed", method=request.method, path=request.path,
                  status=response.status_code, duration_ms=duration_ms)
        return response

    @app.errorhandler(ApiError)
    def api_error(exc):
        """Answer an ApiError with its JSON body and status."""
        return jsonify(exc.body), exc.status

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
        """Readiness: the schema exists and SELECT 1 works on the service's own database."""
        try:
            db.ping()
        except psycopg2.Error as exc:
            return jsonify(status="unavailable", error=str(exc).strip()), 503
        return jsonify(status="ready")

    return app
