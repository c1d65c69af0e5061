"""Inventory service: stock per (store, sku), expiring reservations, restocks, transfers between stores,
and chain-wide availability maintained from the stock.changed events it consumes."""
import logging
import os
import threading
import time
import uuid
from collections import Counter

import psycopg2
from flask import g, jsonify
from psycopg2.extras import Json

from auth import roles
from events import OUTBOX_SCHEMA, Consumer, Relay, emit
from openapi_spec import SPEC
from service import (ApiError, Database, create_app, iso, json_body, log, log_event, on_worker_start, optional,
                     parse_items, request_id_scope, require)

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    store      text        NOT NULL,
    sku        text        NOT NULL,
    quantity   integer     NOT NULL CHECK (quantity >= 0),
    version    bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store, sku)
);
CREATE TABLE IF NOT EXISTS reservations (
    id         text        PRIMARY KEY,
    order_id   text        NOT NULL,
    store      text        NOT NULL,
    items      jsonb       NOT NULL,
    status     text        NOT NULL,
    expires_at timestamptz NOT NULL,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reservations_expiring ON reservations (expires_at) WHERE status = 'reserved';
CREATE TABLE IF NOT EXISTS transfers (
    id         text        PRIMARY KEY,
    from_store text        NOT NULL,
    to_store   text        NOT NULL,
    sku        text        NOT NULL,
    quantity   integer     NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS restock_references (
    reference  text        PRIMARY KEY,
    store      text        NOT NULL,
    sku        text        NOT NULL,
    quantity   integer     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS availability (
    sku        text        NOT NULL,
    store      text        NOT NULL,
    quantity   integer     NOT NULL,
    version    bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, store)
);
""" + OUTBOX_SCHEMA

DEFAULT_TTL = int(os.environ.get("RESERVATION_TTL_SECONDS", "900"))
MAX_TTL = 30 * 24 * 3600
SWEEP_SECONDS = float(os.environ.get("RESERVATION_SWEEP_SECONDS", "0.5"))
MAX_STOCK = 1_000_000_000

db = Database(os.environ["DATABASE_URL"], SCHEMA)
relay = Relay(os.environ["DATABASE_URL"])


class NotEnoughStock(ApiError):
    """409 for a change that would take a stock level below zero."""

    def __init__(self, store, sku, requested, available):
        super().__init__(409, "not enough stock", reason="not enough stock", store=store, sku=sku,
                         requested=requested, available=available)


def on_stock_changed(envelope):
    """Apply a stock.changed event to the availability table (newer versions win, so order does not matter)."""
    data = envelope["data"]
    store, sku, quantity, version = data.get("store"), data.get("sku"), data.get("quantity"), data.get("version")
    if not (isinstance(store, str) and isinstance(sku, str) and isinstance(quantity, int)
            and isinstance(version, int)):
        log_event(logging.ERROR, "stock.changed event without store/sku/quantity/version ignored",
                  event_id=envelope.get("id"))
        return
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO availability (sku, store, quantity, version) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (sku, store) DO UPDATE SET quantity = EXCLUDED.quantity, version = EXCLUDED.version,"
            " updated_at = now() WHERE availability.version < EXCLUDED.version",
            (sku, store, quantity, version))
        applied = cur.rowcount == 1
    log_event(logging.INFO, "availability updated" if applied else "stale stock event skipped",
              event_id=envelope.get("id"), store=store, sku=sku, quantity=quantity, version=version)


consumer = Consumer("inventory.availability", ["stock.changed"], on_stock_changed)
app = create_app(db, SPEC, readiness_checks=(relay.check, consumer.check))


def adjust(cur, store, sku, cause, delta=None, level=None, **refs):
    """Change one stock level (by delta or to level) under a row lock; write its stock.changed event."""
    cur.execute("INSERT INTO stock (store, sku, quantity) VALUES (%s, %s, 0) ON CONFLICT DO NOTHING", (store, sku))
    cur.execute("SELECT quantity FROM stock WHERE store = %s AND sku = %s FOR UPDATE", (store, sku))
    old = cur.fetchone()["quantity"]
    new = level if level is not None else old + delta
    if new < 0:
        raise NotEnoughStock(store, sku, -delta, old)
    if new > MAX_STOCK:
        raise ApiError(400, f"stock level would exceed {MAX_STOCK}")
    cur.execute("UPDATE stock SET quantity = %s, version = version + 1, updated_at = now()"
                " WHERE store = %s AND sku = %s RETURNING store, sku, quantity, version",
                (new, store, sku))
    row = cur.fetchone()
    emit(cur, "stock.changed", {"store": store, "sku": sku, "quantity": new, "delta": new - old, "cause": cause,
                                "version": row["version"], **{k: v for k, v in refs.items() if v is not None}})
    return row, new - old


def stock_json(row):
    """Public JSON form of a stock row."""
    return {"store": row["store"], "sku": row["sku"], "quantity": row["quantity"], "version": row["version"]}


def reservation_json(row):
    """Public JSON form of a reservations row."""
    return {"id": row["id"], "reservation_id": row["id"], "order_id": row["order_id"], "store": row["store"],
            "items": row["items"], "status": row["status"], "expires_at": iso(row["expires_at"]),
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}


def check_name(value, label):
    """Path segments (store, sku) follow the same rules as string fields."""
    if "\x00" in value or len(value) > 200 or not value.strip():
        raise ApiError(400, f"{label} must be 1-200 characters")
    return value


# ---------------------------------------------------------------- stock

@app.put("/stock/<store>/<sku>")
@roles("staff", "admin")
def set_stock(store, sku):
    """Set the stock level of sku in store to the body's non-negative quantity."""
    check_name(store, "store"), check_name(sku, "sku")
    quantity = require(json_body(), "quantity", int, minimum=0, maximum=MAX_STOCK)
    with db.transaction() as cur:
        row, delta = adjust(cur, store, sku, "set", level=quantity)
    log_event(logging.INFO, "stock set", store=store, sku=sku, quantity=quantity, delta=delta)
    return jsonify(stock_json(row))


@app.get("/stock/<store>/<sku>")
@roles("customer", "staff", "admin", "service")
def get_stock(store, sku):
    """Return the stock level (available to sell) of sku in store."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM stock WHERE store = %s AND sku = %s", (store, sku))
        row = cur.fetchone()
    if row is None:
        raise ApiError(404, "stock not found", store=store, sku=sku)
    return jsonify(stock_json(row))


@app.post("/stock/<store>/<sku>/restock")
@roles("staff", "admin", "service")
def restock(store, sku):
    """Add quantity to a store's stock; a repeated reference is applied only once."""
    check_name(store, "store"), check_name(sku, "sku")
    body = json_body()
    quantity = require(body, "quantity", int, minimum=1, maximum=MAX_STOCK)
    cause = optional(body, "cause", str, "restock")
    if cause not in ("restock", "return"):
        raise ApiError(400, "cause must be \"restock\" or \"return\"")
    reference = optional(body, "reference", str)
    order_id = optional(body, "order_id", str)
    with db.transaction() as cur:
        if reference is not None:
            cur.execute("INSERT INTO restock_references (reference, store, sku, quantity) VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING RETURNING reference", (reference, store, sku, quantity))
            if cur.fetchone() is None:
                cur.execute("SELECT * FROM stock WHERE store = %s AND sku = %s", (store, sku))
                row = cur.fetchone()
                return jsonify({**stock_json(row), "delta": 0, "replayed": True})
        row, delta = adjust(cur, store, sku, cause, delta=quantity, reference=reference, order_id=order_id)
    log_event(logging.INFO, "stock restocked", store=store, sku=sku, quantity=row["quantity"], delta=delta,
              cause=cause, reference=reference)
    return jsonify({**stock_json(row), "delta": delta, "replayed": False})


@app.post("/transfers")
@roles("staff", "admin")
def transfer():
    """Move quantity of a sku from one store to another atomically."""
    body = json_body()
    source, target = require(body, "from", str), require(body, "to", str)
    sku = require(body, "sku", str)
    quantity = require(body, "quantity", int, minimum=1, maximum=MAX_STOCK)
    if source == target:
        raise ApiError(400, "from and to must be different stores")
    transfer_id = str(uuid.uuid4())
    with db.transaction() as cur:
        cur.execute("SELECT store, quantity FROM stock WHERE sku = %s AND store = ANY(%s) ORDER BY store FOR UPDATE",
                    (sku, [source, target]))
        levels = {row["store"]: row["quantity"] for row in cur.fetchall()}
        if levels.get(source, 0) < quantity:
            raise NotEnoughStock(source, sku, quantity, levels.get(source, 0))
        cur.execute("INSERT INTO transfers (id, from_store, to_store, sku, quantity, created_by)"
                    " VALUES (%s, %s, %s, %s, %s, %s) RETURNING created_at",
                    (transfer_id, source, target, sku, quantity, g.principal.actor))
        created_at = cur.fetchone()["created_at"]
        changed = {}
        for store, delta in sorted([(source, -quantity), (target, quantity)]):
            changed[store], _ = adjust(cur, store, sku, "transfer", delta=delta, transfer_id=transfer_id)
    log_event(logging.INFO, "stock transferred", transfer_id=transfer_id, sku=sku, quantity=quantity,
              from_store=source, to_store=target)
    return jsonify({"id": transfer_id, "from": source, "to": target, "sku": sku, "quantity": quantity,
                    "from_quantity": changed[source]["quantity"], "to_quantity": changed[target]["quantity"],
                    "created_at": iso(created_at)}), 201


@app.get("/transfers/<transfer_id>")
@roles("staff", "admin")
def get_transfer(transfer_id):
    """Return one transfer."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM transfers WHERE id = %s", (transfer_id,))
        row = cur.fetchone()
    if row is None:
        raise ApiError(404, "transfer not found", id=transfer_id)
    return jsonify({"id": row["id"], "from": row["from_store"], "to": row["to_store"], "sku": row["sku"],
                    "quantity": row["quantity"], "created_by": row["created_by"], "created_at": iso(row["created_at"])})


@app.get("/availability/<sku>")
@roles("customer", "staff", "admin", "service")
def availability(sku):
    """Chain-wide availability of a sku, as maintained from stock.changed events."""
    with db.transaction() as cur:
        cur.execute("SELECT store, quantity, updated_at FROM availability WHERE sku = %s ORDER BY store", (sku,))
        rows = cur.fetchall()
    if not rows:
        raise ApiError(404, "no stock of this sku has been recorded in any store", sku=sku)
    return jsonify({"sku": sku, "total": sum(row["quantity"] for row in rows),
                    "stores": {row["store"]: row["quantity"] for row in rows},
                    "updated_at": iso(max(row["updated_at"] for row in rows))})


# ---------------------------------------------------------------- reservations

@app.post("/reservations")
@roles("service", "staff", "admin")
def reserve():
    """Reserve every item of an order atomically (or none); the reservation expires after ttl_seconds."""
    body = json_body()
    order_id, store = require(body, "order_id", str), require(body, "store", str)
    items = parse_items(body)
    ttl = optional(body, "ttl_seconds", int, DEFAULT_TTL, minimum=1, maximum=MAX_TTL)
    for item in items:
        if item["quantity"] <= 0:
            raise ApiError(400, "quantity must be positive", reason="quantity must be positive", sku=item["sku"])
    wanted = Counter()
    for item in items:
        wanted[item["sku"]] += item["quantity"]
    skus = sorted(wanted)
    reservation_id = str(uuid.uuid4())
    with db.transaction() as cur:
        # Lock the rows in a fixed order so concurrent reservations cannot deadlock.
        cur.execute("SELECT sku, quantity FROM stock WHERE store = %s AND sku = ANY(%s) ORDER BY sku FOR UPDATE",
                    (store, skus))
        available = {row["sku"]: row["quantity"] for row in cur.fetchall()}
        for sku in skus:
            if available.get(sku, 0) < wanted[sku]:
                log_event(logging.INFO, "reservation refused", order_id=order_id, store=store, sku=sku,
                          requested=wanted[sku], available=available.get(sku, 0))
                raise NotEnoughStock(store, sku, wanted[sku], available.get(sku, 0))
        for sku in skus:
            adjust(cur, store, sku, "reserve", delta=-wanted[sku], reservation_id=reservation_id, order_id=order_id)
        cur.execute(
            "INSERT INTO reservations (id, order_id, store, items, status, expires_at, request_id)"
            " VALUES (%s, %s, %s, %s, 'reserved', now() + make_interval(secs => %s), %s) RETURNING *",
            (reservation_id, order_id, store, Json(items), ttl, g.request_id))
        row = cur.fetchone()
    log_event(logging.INFO, "stock reserved", reservation_id=reservation_id, order_id=order_id, store=store,
              ttl_seconds=ttl)
    return jsonify(reservation_json(row)), 201


def find_reservation(cur, reservation_id, lock=False):
    """The reservation row (locked for update if lock), else 404."""
    cur.execute("SELECT * FROM reservations WHERE id = %s" + (" FOR UPDATE" if lock else ""), (reservation_id,))
    row = cur.fetchone()
    if row is None:
        raise ApiError(404, "reservation not found", id=reservation_id)
    return row


def wrong_state(row):
    """409 for an operation the reservation's status does not allow."""
    return ApiError(409, f"reservation is {row['status']}", reason=f"reservation {row['status']}",
                    status=row["status"])


def put_back(cur, row, status, cause):
    """Return a reserved reservation's stock to its store and mark it released or expired."""
    for item in sorted(row["items"], key=lambda item: item["sku"]):
        adjust(cur, row["store"], item["sku"], cause, delta=item["quantity"], reservation_id=row["id"],
               order_id=row["order_id"])
    cur.execute("UPDATE reservations SET status = %s, updated_at = now() WHERE id = %s RETURNING *",
                (status, row["id"]))
    return cur.fetchone()


@app.get("/reservations/<reservation_id>")
@roles("service", "staff", "admin")
def get_reservation(reservation_id):
    """Return one reservation."""
    with db.transaction() as cur:
        row = find_reservation(cur, reservation_id)
    return jsonify(reservation_json(row))


@app.post("/reservations/<reservation_id>/confirm")
@roles("service", "staff", "admin")
def confirm(reservation_id):
    """Make a reservation final (it no longer expires); confirming twice is a no-op."""
    with db.transaction() as cur:
        row = find_reservation(cur, reservation_id, lock=True)
        if row["status"] in ("released", "expired"):
            raise wrong_state(row)
        if row["status"] == "reserved":
            cur.execute("UPDATE reservations SET status = 'confirmed', updated_at = now() WHERE id = %s RETURNING *",
                        (reservation_id,))
            row = cur.fetchone()
            log_event(logging.INFO, "reservation confirmed", reservation_id=reservation_id, order_id=row["order_id"])
    return jsonify(reservation_json(row))


@app.post("/reservations/<reservation_id>/release")
@app.delete("/reservations/<reservation_id>")
@roles("service", "staff", "admin")
def release(reservation_id):
    """Release a reservation, returning its stock; releasing twice (or after expiry) is a no-op."""
    with db.transaction() as cur:
        row = find_reservation(cur, reservation_id, lock=True)
        if row["status"] == "confirmed":
            raise wrong_state(row)
        if row["status"] == "reserved":
            row = put_back(cur, row, "released", "release")
            log_event(logging.INFO, "reservation released", reservation_id=reservation_id, order_id=row["order_id"])
    return jsonify(reservation_json(row))


@app.post("/reservations/<reservation_id>/extend")
@roles("service", "staff", "admin")
def extend(reservation_id):
    """Set a reserved reservation to expire ttl_seconds from now."""
    ttl = require(json_body(), "ttl_seconds", int, minimum=1, maximum=MAX_TTL)
    with db.transaction() as cur:
        row = find_reservation(cur, reservation_id, lock=True)
        if row["status"] != "reserved":
            raise wrong_state(row)
        cur.execute("UPDATE reservations SET expires_at = now() + make_interval(secs => %s), updated_at = now()"
                    " WHERE id = %s RETURNING *", (ttl, reservation_id))
        row = cur.fetchone()
    log_event(logging.INFO, "reservation extended", reservation_id=reservation_id, ttl_seconds=ttl)
    return jsonify(reservation_json(row))


# ---------------------------------------------------------------- background work

def sweep_once():
    """Expire one overdue reservation (stock back, events written); return True if one was expired."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM reservations WHERE status = 'reserved' AND expires_at <= now()"
                    " ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED")
        row = cur.fetchone()
        if row is None:
            return False
        # The expiry is traced under the id of the request that made the reservation.
        with request_id_scope(row["request_id"]):
            put_back(cur, row, "expired", "expire")
            log_event(logging.INFO, "reservation expired", reservation_id=row["id"], order_id=row["order_id"],
                      store=row["store"])
    return True


def sweeper():
    """Expire overdue reservations forever, checking every SWEEP_SECONDS."""
    while True:
        try:
            while sweep_once():
                pass
        except psycopg2.Error:
            pass  # database down or a conflicting transaction: try again on the next sweep
        except Exception:
            log.exception("reservation sweeper error")
        time.sleep(SWEEP_SECONDS)


@on_worker_start
def start_background():
    """Schema warm-up, outbox relay, availability consumer and reservation sweeper for this worker."""
    db.warm_up()
    relay.start()
    consumer.start()
    threading.Thread(target=sweeper, name="reservation-sweeper", daemon=True).start()
