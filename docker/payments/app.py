"""Payments service: authorise (screened by fraud first), capture, void, staff review, refund.

Idempotency keys: a repeated key returns the first result and never charges or refunds twice.
Card numbers are used only in memory: the service keeps and returns the BIN and last four digits,
and sends fraud a sha256 fingerprint, never the number.
"""
import json
import logging
import os
import re
import uuid

from flask import g, jsonify, request

from auth import roles
from downstream import Downstream, Unavailable, body_of
from events import OUTBOX_SCHEMA, Relay, emit
from openapi_spec import SPEC
from service import (MAX_CENTS, ApiError, Database, card_fingerprint, create_app, idempotency_key, iso, json_body,
                     log_event, on_worker_start, optional, parse_card, parse_review, replay, request_hash, require)

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    id              text        PRIMARY KEY,
    order_id        text        NOT NULL,
    customer        text,
    amount_cents    bigint      NOT NULL,
    currency        text        NOT NULL,
    status          text        NOT NULL,
    card_bin        text        NOT NULL,
    card_last4      text        NOT NULL,
    captured_cents  bigint      NOT NULL DEFAULT 0,
    refunded_cents  bigint      NOT NULL DEFAULT 0,
    decline_reason  text,
    decline_detail  text,
    screening_id    text,
    fraud_decision  text,
    fraud_reasons   jsonb,
    review_decision text,
    idempotency_key text        NOT NULL UNIQUE,
    request_hash    text        NOT NULL,
    first_status    integer     NOT NULL,
    first_response  json        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS payments_order ON payments (order_id);
CREATE TABLE IF NOT EXISTS refunds (
    id              text        PRIMARY KEY,
    payment_id      text        NOT NULL REFERENCES payments (id),
    amount_cents    bigint      NOT NULL,
    reason          text,
    idempotency_key text        NOT NULL,
    request_hash    text        NOT NULL,
    response        json,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (payment_id, idempotency_key)
);
""" + OUTBOX_SCHEMA

IDEMPOTENCY_LOCK = 7_263_200
# Issuer test cards: a Luhn-valid number ending in one of these is declined by the "issuer".
ISSUER_DECLINES = {"0002": "card declined", "0051": "insufficient funds"}
STATUS_CODE = {"authorised": 201, "pending_review": 202, "declined": 402}
INTERNAL = ("service", "staff", "admin")

db = Database(os.environ["DATABASE_URL"], SCHEMA)
relay = Relay(os.environ["DATABASE_URL"])
fraud = Downstream("fraud", os.environ.get("FRAUD_URL", "http://fraud:8000"),
                   float(os.environ.get("FRAUD_TIMEOUT", "5")))
app = create_app(db, SPEC, readiness_checks=(relay.check,))


def payment_json(row, refunds=None):
    """Public JSON form of a payments row: last4 and BIN, never the card number."""
    out = {"id": row["id"], "order_id": row["order_id"], "customer": row["customer"],
           "amount_cents": row["amount_cents"], "currency": row["currency"], "status": row["status"],
           "captured_cents": row["captured_cents"], "refunded_cents": row["refunded_cents"],
           "card": {"bin": row["card_bin"], "last4": row["card_last4"]},
           "decline_reason": row["decline_reason"], "decline_detail": row["decline_detail"],
           "fraud": {"screening_id": row["screening_id"], "decision": row["fraud_decision"],
                     "reasons": row["fraud_reasons"] or [], "review_decision": row["review_decision"]},
           "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}
    if refunds is not None:
        out["refunds"] = [refund_json(refund) for refund in refunds]
    return out


def refund_json(row):
    """Public JSON form of a refunds row."""
    return {"id": row["id"], "payment_id": row["payment_id"], "amount_cents": row["amount_cents"],
            "reason": row["reason"], "status": "succeeded", "created_at": iso(row["created_at"])}


def event_data(row):
    """What payment events carry."""
    return {"payment_id": row["id"], "order_id": row["order_id"], "customer": row["customer"],
            "amount_cents": row["amount_cents"], "currency": row["currency"], "status": row["status"],
            "captured_cents": row["captured_cents"], "refunded_cents": row["refunded_cents"],
            "card": {"bin": row["card_bin"], "last4": row["card_last4"]},
            "decline_reason": row["decline_reason"], "decline_detail": row["decline_detail"],
            "fraud_decision": row["fraud_decision"]}


def find_payment(cur, payment_id, lock=False):
    """The payments row (locked for update if lock), else 404."""
    cur.execute("SELECT * FROM payments WHERE id = %s" + (" FOR UPDATE" if lock else ""), (payment_id,))
    row = cur.fetchone()
    if row is None:
        raise ApiError(404, "payment not found", id=payment_id)
    return row


def update(cur, payment_id, **columns):
    """Update columns of a payment (and updated_at); return the new row."""
    assignments = ", ".join(f"{column} = %s" for column in columns)
    cur.execute(f"UPDATE payments SET {assignments}, updated_at = now() WHERE id = %s RETURNING *",
                (*columns.values(), payment_id))
    return cur.fetchone()


def screen(payment_id, order_id, customer, amount, card):
    """Ask fraud for a decision on this attempt (card: fingerprint, bin, last4); return the decision body
    (503 if fraud cannot answer)."""
    try:
        response = fraud.call("POST", "/screenings", json={"payment_id": payment_id, "order_id": order_id,
                                                           "customer": customer, "amount_cents": amount,
                                                           "card": card})
    except Unavailable as exc:
        raise ApiError(503, "fraud screening unavailable", reason="fraud unavailable", detail=str(exc)) from None
    decision = body_of(response)
    if response.status_code != 201 or decision.get("decision") not in ("approve", "review", "decline"):
        log_event(logging.ERROR, "fraud screening failed", fraud_status=response.status_code)
        raise ApiError(503, "fraud screening failed", reason="fraud unavailable",
                       detail=f"fraud answered {response.status_code}")
    return decision


@app.post("/payments")
@roles(*INTERNAL)
def authorise():
    """Authorise a card payment once per Idempotency-Key: 201 authorised, 202 pending review, 402 declined."""
    key = idempotency_key()
    body = json_body()
    order_id = require(body, "order_id", str)
    amount = require(body, "amount_cents", int, minimum=1, maximum=MAX_CENTS)
    currency = optional(body, "currency", str, "EUR")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ApiError(400, "currency must be three capital letters")
    customer = optional(body, "customer", str)
    number = parse_card(body)
    card = {"fingerprint": card_fingerprint(number), "bin": number[:6], "last4": number[-4:]}
    digest = request_hash({"order_id": order_id, "amount_cents": amount, "currency": currency,
                           "customer": customer, "card": card["fingerprint"]})
    with db.transaction() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (IDEMPOTENCY_LOCK, key))
        cur.execute("SELECT * FROM payments WHERE idempotency_key = %s", (key,))
        existing = cur.fetchone()
        if existing is not None:
            if existing["request_hash"] != digest:
                raise ApiError(422, "Idempotency-Key was already used with a different request",
                               reason="idempotency key reused")
            log_event(logging.INFO, "payment replayed", payment_id=existing["id"], idempotency_key=key)
            return replay(existing["first_response"], existing["first_status"])
        payment_id = str(uuid.uuid4())
        decision = screen(payment_id, order_id, customer, amount, card)
        status, reason, detail = "authorised", None, None
        if decision["decision"] == "decline":
            status, reason, detail = "declined", "fraud declined", ", ".join(decision.get("reasons") or ["declined"])
        elif number[-4:] in ISSUER_DECLINES:
            status, reason, detail = "declined", "payment declined", ISSUER_DECLINES[number[-4:]]
        elif decision["decision"] == "review":
            status = "pending_review"
        cur.execute(
            "INSERT INTO payments (id, order_id, customer, amount_cents, currency, status, card_bin, card_last4,"
            " decline_reason, decline_detail, screening_id, fraud_decision, fraud_reasons, idempotency_key,"
            " request_hash, first_status, first_response)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}') RETURNING *",
            (payment_id, order_id, customer, amount, currency, status, number[:6], number[-4:], reason, detail,
             decision.get("id"), decision["decision"], json.dumps(decision.get("reasons") or []), key, digest,
             STATUS_CODE[status]))
        row = cur.fetchone()
        first = payment_json(row)
        cur.execute("UPDATE payments SET first_response = %s WHERE id = %s", (json.dumps(first), payment_id))
        emit(cur, "payment.declined" if status == "declined" else "payment.authorised", event_data(row))
    log_event(logging.INFO, f"payment {status}", payment_id=payment_id, order_id=order_id, amount_cents=amount,
              card_last4=number[-4:], fraud_decision=decision["decision"], decline_reason=reason,
              decline_detail=detail)
    return jsonify(first), STATUS_CODE[status]


@app.get("/payments/<payment_id>")
@roles(*INTERNAL)
def get_payment(payment_id):
    """One payment with its refunds."""
    with db.transaction() as cur:
        row = find_payment(cur, payment_id)
        cur.execute("SELECT * FROM refunds WHERE payment_id = %s ORDER BY created_at, id", (payment_id,))
        refunds = cur.fetchall()
    return jsonify(payment_json(row, refunds))


@app.get("/payments")
@roles(*INTERNAL)
def list_payments():
    """Payments of an order (?order_id=, required), oldest first."""
    order_id = request.args.get("order_id")
    if not order_id:
        raise ApiError(400, "the order_id query parameter is required")
    with db.transaction() as cur:
        cur.execute("SELECT * FROM payments WHERE order_id = %s ORDER BY created_at, id", (order_id,))
        rows = cur.fetchall()
    return jsonify({"payments": [payment_json(row) for row in rows]})


@app.post("/payments/<payment_id>/capture")
@roles(*INTERNAL)
def capture(payment_id):
    """Capture an authorised payment in full; capturing again is a no-op."""
    with db.transaction() as cur:
        row = find_payment(cur, payment_id, lock=True)
        if row["status"] in ("captured", "partially_refunded", "refunded"):
            return jsonify(payment_json(row))
        if row["status"] != "authorised":
            raise ApiError(409, f"payment is {row['status']}; only an authorised payment can be captured",
                           reason=f"payment {row['status']}", status=row["status"])
        row = update(cur, payment_id, status="captured", captured_cents=row["amount_cents"])
        emit(cur, "payment.captured", event_data(row))
    log_event(logging.INFO, "payment captured", payment_id=payment_id, order_id=row["order_id"],
              amount_cents=row["captured_cents"])
    return jsonify(payment_json(row))


@app.post("/payments/<payment_id>/void")
@roles(*INTERNAL)
def void(payment_id):
    """Cancel an uncaptured authorisation; voiding again is a no-op."""
    with db.transaction() as cur:
        row = find_payment(cur, payment_id, lock=True)
        if row["status"] in ("voided", "declined"):
            return jsonify(payment_json(row))
        if row["status"] not in ("authorised", "pending_review"):
            raise ApiError(409, f"payment is {row['status']}; refund it instead", reason=f"payment {row['status']}",
                           status=row["status"])
        row = update(cur, payment_id, status="voided")
        emit(cur, "payment.voided", event_data(row))
    log_event(logging.INFO, "payment voided", payment_id=payment_id, order_id=row["order_id"])
    return jsonify(payment_json(row))


@app.post("/payments/<payment_id>/review")
@roles(*INTERNAL)
def review(payment_id):
    """Apply a staff decision to a payment pending review; fraud records it first."""
    decision, note = parse_review(json_body())
    with db.transaction() as cur:
        row = find_payment(cur, payment_id, lock=True)
        if row["review_decision"] == decision:
            return jsonify(payment_json(row))
        if row["status"] != "pending_review":
            raise ApiError(409, f"payment is {row['status']}, not pending review", reason="not under review",
                           status=row["status"])
        try:
            response = fraud.call("POST", f"/decisions/{row['screening_id']}/review",
                                  json={"decision": decision, **({"note": note} if note else {})})
        except Unavailable as exc:
            raise ApiError(503, "fraud unavailable: the review was not recorded", reason="fraud unavailable",
                           detail=str(exc)) from None
        if response.status_code != 200:
            raise ApiError(409, "fraud refused the review", reason="review refused",
                           detail=body_of(response).get("error"))
        if decision == "approve":
            row = update(cur, payment_id, status="authorised", review_decision=decision)
        else:
            row = update(cur, payment_id, status="declined", review_decision=decision,
                         decline_reason="fraud declined", decline_detail="declined by review")
        emit(cur, "payment.reviewed", {**event_data(row), "review_decision": decision,
                                       "reviewer": g.principal.actor})
    log_event(logging.INFO, "payment reviewed", payment_id=payment_id, decision=decision, status=row["status"])
    return jsonify(payment_json(row))


@app.post("/payments/<payment_id>/refunds")
@roles(*INTERNAL)
def refund(payment_id):
    """Refund part or all of a captured payment once per Idempotency-Key; never more than was captured."""
    key = idempotency_key()
    body = json_body()
    amount = require(body, "amount_cents", int, minimum=1, maximum=MAX_CENTS)
    reason = optional(body, "reason", str)
    digest = request_hash({"amount_cents": amount, "reason": reason})
    with db.transaction() as cur:
        row = find_payment(cur, payment_id, lock=True)
        cur.execute("SELECT * FROM refunds WHERE payment_id = %s AND idempotency_key = %s", (payment_id, key))
        existing = cur.fetchone()
        if existing is not None:
            if existing["request_hash"] != digest:
                raise ApiError(422, "Idempotency-Key was already used with a different refund",
                               reason="idempotency key reused")
            log_event(logging.INFO, "refund replayed", payment_id=payment_id, refund_id=existing["id"])
            return replay(existing["response"], 201)
        if row["status"] not in ("captured", "partially_refunded", "refunded"):
            raise ApiError(409, f"payment is {row['status']}; only a captured payment can be refunded",
                           reason="not captured", status=row["status"])
        refundable = row["captured_cents"] - row["refunded_cents"]
        if amount > refundable:
            raise ApiError(409, "refund exceeds the captured amount not yet refunded",
                           reason="refund exceeds captured amount", refundable_cents=refundable)
        refund_id = str(uuid.uuid4())
        cur.execute("INSERT INTO refunds (id, payment_id, amount_cents, reason, idempotency_key, request_hash)"
                    " VALUES (%s, %s, %s, %s, %s, %s) RETURNING *", (refund_id, payment_id, amount, reason, key, digest))
        refund_row = cur.fetchone()
        refunded = row["refunded_cents"] + amount
        row = update(cur, payment_id, refunded_cents=refunded,
                     status="refunded" if refunded == row["captured_cents"] else "partially_refunded")
        result = {**refund_json(refund_row), "payment": payment_json(row)}
        cur.execute("UPDATE refunds SET response = %s WHERE id = %s", (json.dumps(result), refund_id))
        emit(cur, "payment.refunded", {**event_data(row), "refund_id": refund_id, "refund_cents": amount,
                                       "reason": reason})
    log_event(logging.INFO, "payment refunded", payment_id=payment_id, refund_id=refund_id, amount_cents=amount,
              refunded_cents=refunded)
    return jsonify(result), 201


@on_worker_start
def start_background():
    """Schema warm-up and outbox relay for this worker."""
    db.warm_up()
    relay.start()
