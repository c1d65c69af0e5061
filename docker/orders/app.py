"""Orders service: accepts orders and confirms them by reserving stock in the inventory service."""
import logging
import os
import uuid

import requests
from flask import g, jsonify
from psycopg2.extras import Json

from service import ApiError, Database, create_app, json_body, log_event, parse_items, require

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id         text        PRIMARY KEY,
    customer   text        NOT NULL,
    store      text        NOT NULL,
    items      jsonb       NOT NULL,
    status     text        NOT NULL,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
INVENTORY_URL = os.environ.get("INVENTORY_URL", "http://inventory:8000").rstrip("/")
INVENTORY_TIMEOUT = float(os.environ.get("INVENTORY_TIMEOUT", "5"))

db = Database(os.environ["DATABASE_URL"], SCHEMA)
app = create_app(db)
db.warm_up()


def order_json(row):
    """Return the public JSON form of an orders row."""
    return {"id": row["id"], "customer": row["customer"], "store": row["store"], "items": row["items"],
            "status": row["status"], "reason": row["reason"], "created_at": row["created_at"].isoformat()}


def reserve_stock(order_id, store, items):
    """Ask inventory to reserve the items; return (status, reason, http_status) for the order."""
    try:
        response = requests.post(
            f"{INVENTORY_URL}/reservations",
            json={"order_id": order_id, "store": store, "items": items},
            headers={"X-Request-ID": g.request_id},
            timeout=INVENTORY_TIMEOUT,
        )
    except requests.RequestException as exc:
        log_event(logging.WARNING, "inventory unreachable", order_id=order_id, error=str(exc))
        return "rejected", "inventory unavailable", 503
    if response.status_code == 201:
        return "confirmed", None, 201
    if response.status_code in (400, 409):
        try:
            body = response.json()
            return "rejected", body.get("reason") or body["error"], 422
        except (ValueError, KeyError, AttributeError):
            pass
    log_event(logging.WARNING, "inventory failed", order_id=order_id, inventory_status=response.status_code)
    return "rejected", "inventory unavailable", 503


@app.post("/orders")
def create_order():
    """Create an order, reserve its stock and answer 201 confirmed, 422 rejected or 503."""
    body = json_body()
    customer, store = require(body, "customer", str), require(body, "store", str)
    items = parse_items(body)
    order_id = str(uuid.uuid4())
    with db.transaction() as cur:
        cur.execute("INSERT INTO orders (id, customer, store, items, status) VALUES (%s, %s, %s, %s, 'pending')",
                    (order_id, customer, store, Json(items)))
    status, reason, http_status = reserve_stock(order_id, store, items)
    with db.transaction() as cur:
        cur.execute("UPDATE orders SET status = %s, reason = %s WHERE id = %s RETURNING *", (status, reason, order_id))
        row = cur.fetchone()
    log_event(logging.INFO, f"order {status}", order_id=order_id, customer=customer, store=store, reason=reason)
    return jsonify(order_json(row)), http_status


@app.get("/orders/<order_id>")
def get_order(order_id):
    """Return one order."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
        row = cur.fetchone()
    if row is None:
        raise ApiError(404, "order not found", id=order_id)
    return jsonify(order_json(row))
