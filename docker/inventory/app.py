"""Inventory service: stock levels per (store, sku) and all-or-nothing stock reservations."""
import logging
import os
import uuid
from collections import Counter

from flask import jsonify
from psycopg2.extras import Json

from service import ApiError, Database, create_app, json_body, log_event, parse_items, require

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    store    text    NOT NULL,
    sku      text    NOT NULL,
    quantity integer NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (store, sku)
);
CREATE TABLE IF NOT EXISTS reservations (
    id         text        PRIMARY KEY,
    order_id   text        NOT NULL,
    store      text        NOT NULL,
    items      jsonb       NOT NULL,
    status     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

db = Database(os.environ["DATABASE_URL"], SCHEMA)
app = create_app(db)
db.warm_up()


def reservation_json(row):
    """Return the public JSON form of a reservations row."""
    return {"reservation_id": row["id"], "order_id": row["order_id"], "store": row["store"],
            "items": row["items"], "status": row["status"]}


@app.put("/stock/<store>/<sku>")
def set_stock(store, sku):
    """Set the stock level of sku in store to the body's non-negative quantity."""
    quantity = require(json_body(), "quantity", int)
    if quantity < 0:
        raise ApiError(400, "quantity must not be negative")
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO stock (store, sku, quantity) VALUES (%s, %s, %s)"
            " ON CONFLICT (store, sku) DO UPDATE SET quantity = EXCLUDED.quantity"
            " RETURNING store, sku, quantity",
            (store, sku, quantity),
        )
        row = cur.fetchone()
    log_event(logging.INFO, "stock set", store=store, sku=sku, quantity=quantity)
    return jsonify(row)


@app.get("/stock/<store>/<sku>")
def get_stock(store, sku):
    """Return the stock level of sku in store."""
    with db.transaction() as cur:
        cur.execute("SELECT store, sku, quantity FROM stock WHERE store = %s AND sku = %s", (store, sku))
        row = cur.fetchone()
    if row is None:
        raise ApiError(404, "stock not found", store=store, sku=sku)
    return jsonify(row)


@app.post("/reservations")
def reserve():
    """Reserve every item of an order atomically, or none of them."""
    body = json_body()
    order_id, store = require(body, "order_id", str), require(body, "store", str)
    items = parse_items(body)
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
        cur.execute(
            "SELECT sku, quantity FROM stock WHERE store = %s AND sku = ANY(%s) ORDER BY sku FOR UPDATE",
            (store, skus),
        )
        available = {row["sku"]: row["quantity"] for row in cur.fetchall()}
        for sku in skus:
            if available.get(sku, 0) < wanted[sku]:
                log_event(logging.INFO, "reservation refused", order_id=order_id, store=store, sku=sku,
                          requested=wanted[sku], available=available.get(sku, 0))
                raise ApiError(409, "not enough stock", reason="not enough stock", sku=sku,
                               requested=wanted[sku], available=available.get(sku, 0))
        for sku in skus:
            cur.execute("UPDATE stock SET quantity = quantity - %s WHERE store = %s AND sku = %s",
                        (wanted[sku], store, sku))
        cur.execute(
            "INSERT INTO reservations (id, order_id, store, items, status)"
            " VALUES (%s, %s, %s, %s, 'reserved') RETURNING *",
            (reservation_id, order_id, store, Json(items)),
        )
        row = cur.fetchone()
    log_event(logging.INFO, "stock reserved", reservation_id=reservation_id, order_id=order_id, store=store)
    return jsonify(reservation_json(row)), 201


@app.get("/reservations/<reservation_id>")
def get_reservation(reservation_id):
    """Return one reservation."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM reservations WHERE id = %s", (reservation_id,))
        row = cur.fetchone()
    if row is None:
        raise ApiError(404, "reservation not found", reservation_id=reservation_id)
    return jsonify(reservation_json(row))


@app.delete("/reservations/<reservation_id>")
def release(reservation_id):
    """Release a reservation, returning its stock; releasing twice is a no-op."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM reservations WHERE id = %s FOR UPDATE", (reservation_id,))
        row = cur.fetchone()
        if row is None:
            raise ApiError(404, "reservation not found", reservation_id=reservation_id)
        if row["status"] == "reserved":
            for item in sorted(row["items"], key=lambda item: item["sku"]):
                cur.execute(
                    "INSERT INTO stock (store, sku, quantity) VALUES (%s, %s, %s)"
                    " ON CONFLICT (store, sku) DO UPDATE SET quantity = stock.quantity + EXCLUDED.quantity",
                    (row["store"], item["sku"], item["quantity"]),
                )
            cur.execute("UPDATE reservations SET status = 'released' WHERE id = %s RETURNING *", (reservation_id,))
            row = cur.fetchone()
            log_event(logging.INFO, "reservation released", reservation_id=reservation_id, order_id=row["order_id"])
    return jsonify(reservation_json(row))
