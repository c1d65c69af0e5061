"""Orders service: checkout (reserve stock -> authorise payment -> capture -> confirm, compensating on
any failure), staff review of held orders, customers' own orders, and idempotent returns."""
import json
import logging
import os
import uuid
from urllib.parse import quote

from flask import g, jsonify, request
from psycopg2.extras import Json

from auth import roles
from downstream import Downstream, Unavailable, body_of
from events import OUTBOX_SCHEMA, Relay, emit
from openapi_spec import SPEC
from service import (MAX_CENTS, ApiError, Database, create_app, idempotency_key, iso, json_body, log_event,
                     newest_first, on_worker_start, optional, parse_card, parse_items, parse_review, query_limit,
                     replay, request_hash, require)

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id             text        PRIMARY KEY,
    customer       text        NOT NULL,
    store          text        NOT NULL,
    items          jsonb       NOT NULL,
    total_cents    bigint      NOT NULL,
    refunded_cents bigint      NOT NULL DEFAULT 0,
    currency       text        NOT NULL,
    status         text        NOT NULL,
    reason         text,
    detail         text,
    card_last4     text,
    reservation_id text,
    payment_id     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer, created_at);
CREATE TABLE IF NOT EXISTS returns (
    id              text        PRIMARY KEY,
    order_id        text        NOT NULL REFERENCES orders (id),
    idempotency_key text        NOT NULL,
    request_hash    text        NOT NULL,
    store           text        NOT NULL,
    items           jsonb       NOT NULL,
    refund_cents    bigint      NOT NULL,
    status          text        NOT NULL,
    refund_id       text,
    response        json,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    UNIQUE (order_id, idempotency_key)
);
""" + OUTBOX_SCHEMA

CHECKOUT_TTL = int(os.environ.get("ORDER_RESERVATION_TTL_SECONDS", "900"))
HELD_TTL = int(os.environ.get("HELD_RESERVATION_TTL_SECONDS", str(7 * 24 * 3600)))
HTTP_STATUS = {"confirmed": 201, "held": 202}

db = Database(os.environ["DATABASE_URL"], SCHEMA)
relay = Relay(os.environ["DATABASE_URL"])
inventory = Downstream("inventory", os.environ.get("INVENTORY_URL", "http://inventory:8000"),
                       float(os.environ.get("INVENTORY_TIMEOUT", "5")))
payments = Downstream("payments", os.environ.get("PAYMENTS_URL", "http://payments:8000"),
                      float(os.environ.get("PAYMENTS_TIMEOUT", "10")))
app = create_app(db, SPEC, readiness_checks=(relay.check,))


# ---------------------------------------------------------------- shapes

def order_json(row, returns=None):
    """Public JSON form of an orders row (card: last four digits only)."""
    out = {"id": row["id"], "customer": row["customer"], "store": row["store"], "items": row["items"],
           "total_cents": row["total_cents"], "refunded_cents": row["refunded_cents"], "currency": row["currency"],
           "status": row["status"], "reason": row["reason"], "detail": row["detail"],
           "card": {"last4": row["card_last4"]}, "payment_id": row["payment_id"],
           "reservation_id": row["reservation_id"],
           "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}
    if returns is not None:
        out["returns"] = [return_json(ret) for ret in returns]
    return out


def return_json(row):
    """Public JSON form of a returns row."""
    return {"id": row["id"], "order_id": row["order_id"], "store": row["store"], "items": row["items"],
            "refund_cents": row["refund_cents"], "refund_id": row["refund_id"], "status": row["status"],
            "created_at": iso(row["created_at"]), "completed_at": iso(row["completed_at"])}


def order_event(row):
    """What order events carry: everything a consumer needs without calling back."""
    return {"order_id": row["id"], "customer": row["customer"], "store": row["store"],
            "items": [{"sku": item["sku"], "quantity": item["quantity"], "unit_price_cents": item["unit_price_cents"]}
                      for item in row["items"]],
            "total_cents": row["total_cents"], "refunded_cents": row["refunded_cents"], "currency": row["currency"],
            "status": row["status"], "reason": row["reason"], "detail": row["detail"],
            "payment_id": row["payment_id"], "reservation_id": row["reservation_id"], "card_last4": row["card_last4"]}


# ---------------------------------------------------------------- state changes

def update_order(cur, order_id, event=None, **columns):
    """Update columns of an order (and updated_at), optionally writing order.<event>; return the row."""
    assignments = ", ".join(f"{column} = %s" for column in columns)
    cur.execute(f"UPDATE orders SET {assignments}, updated_at = now() WHERE id = %s RETURNING *",
                (*[Json(v) if isinstance(v, list) else v for v in columns.values()], order_id))
    row = cur.fetchone()
    if event:
        emit(cur, f"order.{event}", order_event(row))
    return row


def finish(order_id, status, reason=None, detail=None, http_status=None, **columns):
    """Move the order to a terminal (or held) state, publish it, and return the HTTP answer."""
    with db.transaction() as cur:
        row = update_order(cur, order_id, status, status=status, reason=reason, detail=detail, **columns)
    log_event(logging.INFO, f"order {status}", order_id=order_id, customer=row["customer"], store=row["store"],
              reason=reason, detail=detail, total_cents=row["total_cents"])
    return jsonify(order_json(row)), http_status or HTTP_STATUS.get(status, 422)


def release(reservation_id):
    """Best-effort release of a reservation (it would expire anyway); True if released."""
    try:
        response = inventory.call("POST", f"/reservations/{reservation_id}/release")
        return response.status_code == 200
    except Unavailable:
        log_event(logging.ERROR, "could not release reservation; it will expire", reservation_id=reservation_id)
        return False


def void(payment_id):
    """Best-effort void of an uncaptured authorisation."""
    try:
        payments.call("POST", f"/payments/{payment_id}/void")
    except Unavailable:
        log_event(logging.ERROR, "could not void payment", payment_id=payment_id)


def refund_all(order_id, payment_id, amount):
    """Best-effort full refund of a captured payment that must not stand."""
    try:
        payments.call("POST", f"/payments/{payment_id}/refunds", idempotency_key=f"cancel:{order_id}",
                      json={"amount_cents": amount, "reason": "order not completed"})
    except Unavailable:
        log_event(logging.ERROR, "could not refund a captured payment of a failed order", payment_id=payment_id,
                  order_id=order_id)


def settle(order_id, payment_id, reservation_id, amount):
    """Capture the payment and confirm the reservation: (status, reason, detail, http_status).

    Compensates on failure: voids an uncaptured payment or refunds a captured one, releases the stock.
    An inventory/payments outage answers 503 with the order rejected.
    """
    if payment_id is not None:
        try:
            response = payments.call("POST", f"/payments/{payment_id}/capture")
        except Unavailable:
            void(payment_id)
            release(reservation_id)
            return "rejected", "payments unavailable", "capture failed", 503
        if response.status_code != 200:
            void(payment_id)
            release(reservation_id)
            return "rejected", "payment declined", body_of(response).get("error", "capture refused"), 422
    try:
        response = inventory.call("POST", f"/reservations/{reservation_id}/confirm")
    except Unavailable:
        if payment_id is not None:
            refund_all(order_id, payment_id, amount)
        release(reservation_id)
        return "rejected", "inventory unavailable", "reservation not confirmed", 503
    if response.status_code != 200:
        if payment_id is not None:
            refund_all(order_id, payment_id, amount)
        release(reservation_id)  # a no-op if it already expired
        answer = body_of(response)
        if answer.get("reason") in ("reservation expired", "reservation released"):
            return "rejected", "reservation expired", answer.get("error"), 422
        return "rejected", "inventory unavailable", answer.get("error", "reservation not confirmed"), 503
    return "confirmed", None, None, 201


# ---------------------------------------------------------------- checkout

def merge_items(items):
    """One line per sku: quantities summed; the same sku at two different prices is refused."""
    merged = {}
    for item in items:
        line = merged.setdefault(item["sku"], {**item, "quantity": 0})
        if line["unit_price_cents"] != item["unit_price_cents"]:
            raise ApiError(400, f"sku {item['sku']} appears with two different unit_price_cents")
        line["quantity"] += item["quantity"]
    return [{**line, "returned_quantity": 0} for line in merged.values()]


@app.post("/orders")
@roles("customer", "staff", "admin")
def place_order():
    """Checkout: 201 confirmed, 202 held for fraud review, 422 rejected, 503 dependency down, 400 bad input."""
    principal = g.principal
    body = json_body()
    if principal.role == "customer":
        customer = optional(body, "customer", str, principal.sub)
        if customer != principal.sub:
            raise ApiError(403, "customers may only place orders for themselves")
    else:
        customer = require(body, "customer", str)
    store = require(body, "store", str)
    lines = parse_items(body, prices=True)
    currency = optional(body, "currency", str, "EUR")
    number = parse_card(body)
    non_positive = [line for line in lines if line["quantity"] <= 0]
    if non_positive:  # rejected below; keep the lines as sent
        items = [{**line, "returned_quantity": 0} for line in lines]
    else:
        items = merge_items(lines)
    total = sum(max(item["quantity"], 0) * item["unit_price_cents"] for item in items)
    if total > MAX_CENTS:
        raise ApiError(400, f"the order total must be at most {MAX_CENTS} cents")
    order_id = str(uuid.uuid4())
    with db.transaction() as cur:
        cur.execute("INSERT INTO orders (id, customer, store, items, total_cents, currency, status, card_last4)"
                    " VALUES (%s, %s, %s, %s, %s, %s, 'pending', %s) RETURNING *",
                    (order_id, customer, store, Json(items), total, currency, number[-4:]))
        emit(cur, "order.placed", order_event(cur.fetchone()))
    log_event(logging.INFO, "order placed", order_id=order_id, customer=customer, store=store, total_cents=total)

    if non_positive:
        return finish(order_id, "rejected", "quantity must be positive",
                      f"sku {non_positive[0]['sku']}: quantity {non_positive[0]['quantity']}")

    # 1. reserve the stock
    try:
        response = inventory.call("POST", "/reservations", json={
            "order_id": order_id, "store": store, "ttl_seconds": CHECKOUT_TTL,
            "items": [{"sku": item["sku"], "quantity": item["quantity"]} for item in items]})
    except Unavailable as exc:
        return finish(order_id, "rejected", "inventory unavailable", str(exc), 503)
    answer = body_of(response)
    if response.status_code == 409 and answer.get("reason") == "not enough stock":
        return finish(order_id, "rejected", "not enough stock",
                      f"sku {answer.get('sku')}: requested {answer.get('requested')}, "
                      f"available {answer.get('available')}")
    if response.status_code != 201:
        log_event(logging.ERROR, "inventory refused the reservation", inventory_status=response.status_code,
                  answer=answer)
        return finish(order_id, "rejected", answer.get("reason") or "inventory unavailable", answer.get("error"),
                      422 if response.status_code == 400 else 503)
    reservation_id = answer["id"]

    # 2. authorise the payment (payments asks fraud first)
    payment_id = None
    if total > 0:
        try:
            response = payments.call("POST", "/payments", idempotency_key=order_id, json={
                "order_id": order_id, "amount_cents": total, "currency": currency, "customer": customer,
                "card": {"number": number}})
        except Unavailable as exc:
            release(reservation_id)
            return finish(order_id, "rejected", "payments unavailable", str(exc), 503, reservation_id=reservation_id)
        answer = body_of(response)
        payment_id = answer.get("id")
        if response.status_code == 402:
            release(reservation_id)
            return finish(order_id, "rejected", answer.get("decline_reason") or "payment declined",
                          answer.get("decline_detail"), reservation_id=reservation_id, payment_id=payment_id)
        if response.status_code == 202:
            try:
                inventory.call("POST", f"/reservations/{reservation_id}/extend", json={"ttl_seconds": HELD_TTL})
            except Unavailable:
                log_event(logging.ERROR, "could not extend the reservation of a held order",
                          reservation_id=reservation_id)
            reasons = (answer.get("fraud") or {}).get("reasons") or []
            return finish(order_id, "held", "fraud review", ", ".join(reasons) or None,
                          reservation_id=reservation_id, payment_id=payment_id)
        if response.status_code != 201:
            release(reservation_id)
            return finish(order_id, "rejected", "payment declined", answer.get("error"),
                          reservation_id=reservation_id, payment_id=payment_id)

    # 3. capture and confirm
    status, reason, detail, http_status = settle(order_id, payment_id, reservation_id, total)
    return finish(order_id, status, reason, detail, http_status, reservation_id=reservation_id, payment_id=payment_id)


# ---------------------------------------------------------------- reading orders

def visible_order(cur, order_id, lock=False):
    """The order if the caller may see it (customers: only their own), else 404."""
    cur.execute("SELECT * FROM orders WHERE id = %s" + (" FOR UPDATE" if lock else ""), (order_id,))
    row = cur.fetchone()
    principal = g.principal
    if row is None or (principal.role == "customer" and row["customer"] != principal.sub):
        raise ApiError(404, "order not found", id=order_id)
    return row


def returns_of(cur, order_id):
    """Every return of an order, oldest first."""
    cur.execute("SELECT * FROM returns WHERE order_id = %s ORDER BY created_at, id", (order_id,))
    return cur.fetchall()


@app.get("/orders/<order_id>")
@roles("customer", "staff", "admin", "service")
def get_order(order_id):
    """One order with its returns (a customer sees only their own; others get 404)."""
    with db.transaction() as cur:
        row = visible_order(cur, order_id)
        returns = returns_of(cur, order_id)
    return jsonify(order_json(row, returns))


@app.get("/orders")
@roles("customer", "staff", "admin", "service")
def list_orders():
    """Orders newest first: a customer's own only; staff may filter by ?customer= and ?status=."""
    principal = g.principal
    customer = request.args.get("customer")
    if principal.role == "customer":
        if customer not in (None, principal.sub):
            raise ApiError(403, "customers may only list their own orders")
        customer = principal.sub
    status = request.args.get("status")
    limit = query_limit()
    with db.transaction() as cur:
        rows = newest_first(cur, "orders", {"customer": customer, "status": status}, limit)
    return jsonify({"orders": [order_json(row) for row in rows]})


# ---------------------------------------------------------------- staff review of held orders

@app.post("/orders/<order_id>/review")
@roles("staff", "admin")
def review_order(order_id):
    """Approve (capture, confirm) or decline (release) a held order; fraud and payments record the decision."""
    decision, note = parse_review(json_body())
    with db.transaction() as cur:
        # The row lock serialises concurrent reviews of the same order for the whole exchange.
        row = visible_order(cur, order_id, lock=True)
        if row["status"] != "held":
            raise ApiError(409, f"order is {row['status']}, not held", reason="not held", status=row["status"])
        try:
            response = payments.call("POST", f"/payments/{row['payment_id']}/review",
                                     json={"decision": decision, **({"note": note} if note else {})})
        except Unavailable as exc:
            raise ApiError(503, "payments unavailable; the order is still held", reason="payments unavailable",
                           detail=str(exc)) from None
        if response.status_code != 200:
            raise ApiError(409, "payments refused the review", reason="review refused",
                           detail=body_of(response).get("error"))
        if decision == "decline":
            if not release(row["reservation_id"]):
                raise ApiError(503, "inventory unavailable; the order is still held", reason="inventory unavailable")
            status, reason, detail, http_status = "rejected", "fraud declined", "declined by review", 200
        else:
            status, reason, detail, http_status = settle(order_id, row["payment_id"], row["reservation_id"],
                                                         row["total_cents"])
            if status == "confirmed":
                http_status = 200
        row = update_order(cur, order_id, status, status=status, reason=reason, detail=detail)
    log_event(logging.INFO, f"held order {status} by review", order_id=order_id, decision=decision, reason=reason)
    return jsonify(order_json(row)), http_status


# ---------------------------------------------------------------- returns

def claimed(cur, order_id):
    """Quantities per sku already returned or being returned (pending and completed returns)."""
    cur.execute("SELECT items FROM returns WHERE order_id = %s AND status IN ('pending', 'completed')", (order_id,))
    total = {}
    for row in cur.fetchall():
        for item in row["items"]:
            total[item["sku"]] = total.get(item["sku"], 0) + item["quantity"]
    return total


def start_return(order_id, key, store, items, digest):
    """Find the return of this Idempotency-Key or create it (pending); returns (row, replay_response)."""
    with db.transaction() as cur:
        order = visible_order(cur, order_id, lock=True)
        cur.execute("SELECT * FROM returns WHERE order_id = %s AND idempotency_key = %s", (order_id, key))
        existing = cur.fetchone()
        if existing is not None:
            if existing["request_hash"] != digest:
                raise ApiError(422, "Idempotency-Key was already used with a different return",
                               reason="idempotency key reused")
            if existing["status"] == "failed":
                raise ApiError(409, "this return was refused", reason="return refused", return_id=existing["id"])
            return existing, order  # completed: replayed; pending: the retry finishes it
        if order["status"] not in ("confirmed", "partially_returned"):
            raise ApiError(409, f"order is {order['status']}; only confirmed orders can be returned",
                           reason="not returnable", status=order["status"])
        lines = {item["sku"]: item for item in order["items"]}
        already = claimed(cur, order_id)
        wanted = {}
        for item in items:
            wanted[item["sku"]] = wanted.get(item["sku"], 0) + item["quantity"]
        for sku, quantity in wanted.items():
            if sku not in lines:
                raise ApiError(400, f"sku {sku} is not part of this order", sku=sku)
            if already.get(sku, 0) + quantity > lines[sku]["quantity"]:
                raise ApiError(409, "cannot return more than was bought", reason="already returned", sku=sku,
                               bought=lines[sku]["quantity"], already_returned=already.get(sku, 0),
                               requested=quantity)
        priced = [{"sku": sku, "quantity": quantity, "unit_price_cents": lines[sku]["unit_price_cents"]}
                  for sku, quantity in wanted.items()]
        amount = sum(item["quantity"] * item["unit_price_cents"] for item in priced)
        cur.execute("INSERT INTO returns (id, order_id, idempotency_key, request_hash, store, items, refund_cents,"
                    " status) VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending') RETURNING *",
                    (str(uuid.uuid4()), order_id, key, digest, store, Json(priced), amount))
        return cur.fetchone(), order


def fail_return(return_id, message, **extra):
    """Mark a return refused (its quantities are free again) and answer 409."""
    with db.transaction() as cur:
        cur.execute("UPDATE returns SET status = 'failed' WHERE id = %s AND status = 'pending'", (return_id,))
    raise ApiError(409, message, return_id=return_id, **extra)


@app.post("/orders/<order_id>/returns")
@roles("customer", "staff", "admin")
def return_items(order_id):
    """Return items to a store: restock the receiving store, then refund their price once per Idempotency-Key."""
    key = idempotency_key()
    body = json_body()
    store = require(body, "store", str)
    items = parse_items(body)
    for i, item in enumerate(items):
        if item["quantity"] <= 0:
            raise ApiError(400, f"items[{i}].quantity must be at least 1")
    digest = request_hash({"store": store, "items": sorted((item["sku"], item["quantity"]) for item in items)})
    ret, order = start_return(order_id, key, store, items, digest)
    if ret["status"] == "completed":
        log_event(logging.INFO, "return replayed", order_id=order_id, return_id=ret["id"])
        return replay(ret["response"], 201)
    retry = "; retry with the same Idempotency-Key"

    # 1. put the stock back in the store that received the return (inventory de-duplicates by reference); a
    #    store that cannot take it refuses the return before anything is refunded
    for item in ret["items"]:
        try:
            response = inventory.call("POST", f"/stock/{quote(ret['store'], safe='')}/{quote(item['sku'], safe='')}"
                                      "/restock", json={"quantity": item["quantity"], "cause": "return",
                                                        "order_id": order_id,
                                                        "reference": f"return:{ret['id']}:{item['sku']}"})
        except Unavailable as exc:
            raise ApiError(503, "inventory unavailable" + retry, reason="inventory unavailable",
                           return_id=ret["id"], detail=str(exc)) from None
        if response.status_code == 409:  # a conflict with a concurrent change: the retry goes through
            raise ApiError(503, "inventory was busy" + retry, reason="inventory unavailable", return_id=ret["id"],
                           detail=body_of(response).get("error"))
        if response.status_code != 200:  # the store cannot take the items: asking again would not help
            log_event(logging.ERROR, "inventory refused the restock of a return; nothing refunded",
                      order_id=order_id, return_id=ret["id"], store=ret["store"], sku=item["sku"],
                      inventory_status=response.status_code)
            fail_return(ret["id"], "the receiving store cannot take the items back", reason="restock refused",
                        store=ret["store"], detail=body_of(response).get("error"))

    # 2. refund exactly the returned items' price (payments de-duplicates by the return's id)
    refund_id = None
    if ret["refund_cents"] > 0 and order["payment_id"]:
        try:
            response = payments.call("POST", f"/payments/{order['payment_id']}/refunds",
                                     idempotency_key=f"return:{ret['id']}",
                                     json={"amount_cents": ret["refund_cents"], "reason": "return"})
        except Unavailable as exc:
            raise ApiError(503, "payments unavailable" + retry, reason="payments unavailable", return_id=ret["id"],
                           detail=str(exc)) from None
        answer = body_of(response)
        if response.status_code != 201:
            log_event(logging.ERROR, "payments refused the refund of a return whose stock is back", order_id=order_id,
                      return_id=ret["id"], payments_status=response.status_code)
            fail_return(ret["id"], "payments refused the refund", reason=answer.get("reason") or "refund refused",
                        detail=answer.get("error"))
        refund_id = answer.get("id")

    # 3. complete: order quantities, refunded amount, status, event, stored answer
    with db.transaction() as cur:
        order = visible_order(cur, order_id, lock=True)
        cur.execute("SELECT * FROM returns WHERE id = %s FOR UPDATE", (ret["id"],))
        ret = cur.fetchone()
        if ret["status"] == "completed":  # a concurrent retry finished first
            return replay(ret["response"], 201)
        returned = {item["sku"]: item["quantity"] for item in ret["items"]}
        new_items = [{**item, "returned_quantity": item["returned_quantity"] + returned.get(item["sku"], 0)}
                     for item in order["items"]]
        fully = all(item["returned_quantity"] >= item["quantity"] for item in new_items)
        status = "returned" if fully else "partially_returned"
        order = update_order(cur, order_id, None, items=new_items, status=status,
                             refunded_cents=order["refunded_cents"] + ret["refund_cents"])
        cur.execute("UPDATE returns SET status = 'completed', refund_id = %s, completed_at = now() WHERE id = %s"
                    " RETURNING *", (refund_id, ret["id"]))
        ret = cur.fetchone()
        result = {"return": return_json(ret), "order": order_json(order, returns_of(cur, order_id))}
        cur.execute("UPDATE returns SET response = %s WHERE id = %s", (json.dumps(result), ret["id"]))
        emit(cur, "order.returned", {**order_event(order), "return": {
            "id": ret["id"], "store": ret["store"], "items": ret["items"], "refund_cents": ret["refund_cents"],
            "refund_id": refund_id}})
    log_event(logging.INFO, "order returned", order_id=order_id, return_id=ret["id"], store=ret["store"],
              refund_cents=ret["refund_cents"], status=status)
    return jsonify(result), 201


@on_worker_start
def start_background():
    """Schema warm-up and outbox relay for this worker."""
    db.warm_up()
    relay.start()
