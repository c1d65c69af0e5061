"""Fraud service: approve / review / decline payments by rules (amount thresholds, velocity per card,
blocked cards and BINs); every decision and every staff review is recorded and queryable.

It never sees a card number: callers send a fingerprint (sha256 hex of the number), the BIN and last4.
"""
import logging
import os
import re
import uuid

from flask import g, jsonify, request
from psycopg2.extras import Json

from auth import roles
from events import OUTBOX_SCHEMA, Relay, emit
from openapi_spec import SPEC
from service import (MAX_CENTS, ApiError, Database, card_fingerprint, create_app, iso, json_body, log_event,
                     newest_first, on_worker_start, optional, parse_review, query_limit, require)

SCHEMA = """
CREATE TABLE IF NOT EXISTS screenings (
    id               text        PRIMARY KEY,
    order_id         text,
    payment_id       text,
    customer         text,
    amount_cents     bigint      NOT NULL,
    card_fingerprint text        NOT NULL,
    card_bin         text        NOT NULL,
    card_last4       text        NOT NULL,
    decision         text        NOT NULL,
    reasons          jsonb       NOT NULL,
    review_decision  text,
    reviewer         text,
    review_note      text,
    reviewed_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS screenings_velocity ON screenings (card_fingerprint, created_at);
CREATE INDEX IF NOT EXISTS screenings_last4 ON screenings (card_last4, card_bin);
CREATE INDEX IF NOT EXISTS screenings_order ON screenings (order_id);
CREATE TABLE IF NOT EXISTS blocklist (
    id         text        PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('card', 'bin')),
    value      text        NOT NULL,
    bin        text,
    last4      text,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value)
);
""" + OUTBOX_SCHEMA

RULES = {
    "review_over_cents": int(os.environ.get("FRAUD_REVIEW_OVER_CENTS", "50000")),
    "decline_over_cents": int(os.environ.get("FRAUD_DECLINE_OVER_CENTS", "200000")),
    "velocity_max": int(os.environ.get("FRAUD_VELOCITY_MAX", "3")),
    "velocity_window_minutes": float(os.environ.get("FRAUD_VELOCITY_WINDOW_MINUTES", "10")),
}
VELOCITY_LOCK = 7_263_100  # advisory lock namespace: one screening per card fingerprint at a time

db = Database(os.environ["DATABASE_URL"], SCHEMA)
relay = Relay(os.environ["DATABASE_URL"])
app = create_app(db, SPEC, readiness_checks=(relay.check,))
INTERNAL = ("service", "staff", "admin")


def decision_json(row):
    """Public JSON form of a screenings row (no fingerprint)."""
    review = None
    if row["review_decision"]:
        review = {"decision": row["review_decision"], "reviewer": row["reviewer"], "note": row["review_note"],
                  "reviewed_at": iso(row["reviewed_at"])}
    return {"id": row["id"], "order_id": row["order_id"], "payment_id": row["payment_id"],
            "customer": row["customer"], "amount_cents": row["amount_cents"],
            "card": {"bin": row["card_bin"], "last4": row["card_last4"]},
            "decision": row["decision"], "reasons": row["reasons"],
            "final_decision": row["review_decision"] or row["decision"], "review": review,
            "created_at": iso(row["created_at"])}


def parse_card_facts(body):
    """Return (fingerprint, bin, last4) from body["card"], refusing a card number outright."""
    card = require(body, "card", dict)
    if any(key in card for key in ("number", "card_number", "pan")):
        raise ApiError(400, "send card.fingerprint, card.bin and card.last4; never the card number")
    fingerprint = require(card, "fingerprint", str, "card.")
    card_bin = require(card, "bin", str, "card.")
    last4 = require(card, "last4", str, "card.")
    if not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
        raise ApiError(400, "card.fingerprint must be 64 lowercase hex digits (sha256 of the card number)")
    if not re.fullmatch(r"[0-9]{6}", card_bin):
        raise ApiError(400, "card.bin must be 6 digits")
    if not re.fullmatch(r"[0-9]{4}", last4):
        raise ApiError(400, "card.last4 must be 4 digits")
    return fingerprint, card_bin, last4


@app.get("/rules")
@roles(*INTERNAL)
def rules():
    """The thresholds the rules use (not for customers: knowing them helps to slip under them)."""
    return jsonify(RULES)


@app.post("/screenings")
@roles(*INTERNAL)
def screen():
    """Screen a payment attempt: decline, review or approve, with reasons; the attempt is recorded."""
    body = json_body()
    amount = require(body, "amount_cents", int, minimum=0, maximum=MAX_CENTS)
    fingerprint, card_bin, last4 = parse_card_facts(body)
    order_id, payment_id = optional(body, "order_id", str), optional(body, "payment_id", str)
    customer = optional(body, "customer", str)
    screening_id = str(uuid.uuid4())
    with db.transaction() as cur:
        # Serialise attempts on the same card so concurrent attempts count each other.
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (VELOCITY_LOCK, fingerprint))
        cur.execute("SELECT count(*) AS n FROM screenings WHERE card_fingerprint = %s"
                    " AND created_at > now() - make_interval(secs => %s)",
                    (fingerprint, RULES["velocity_window_minutes"] * 60))
        attempts = cur.fetchone()["n"] + 1
        cur.execute("SELECT kind FROM blocklist WHERE (kind = 'card' AND value = %s) OR (kind = 'bin' AND value = %s)",
                    (fingerprint, card_bin))
        blocked = {row["kind"] for row in cur.fetchall()}
        declines, reviews = [], []
        if "card" in blocked:
            declines.append("blocked card")
        if "bin" in blocked:
            declines.append("blocked bin")
        if attempts > RULES["velocity_max"]:
            declines.append("velocity")
        if amount > RULES["decline_over_cents"]:
            declines.append("amount over limit")
        elif amount > RULES["review_over_cents"]:
            reviews.append("amount over review threshold")
        decision = "decline" if declines else "review" if reviews else "approve"
        reasons = declines or reviews
        cur.execute(
            "INSERT INTO screenings (id, order_id, payment_id, customer, amount_cents, card_fingerprint, card_bin,"
            " card_last4, decision, reasons) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
            (screening_id, order_id, payment_id, customer, amount, fingerprint, card_bin, last4, decision,
             Json(reasons)))
        row = cur.fetchone()
        emit(cur, "fraud.screened", {"screening_id": screening_id, "order_id": order_id, "payment_id": payment_id,
                                     "customer": customer, "amount_cents": amount, "decision": decision,
                                     "reasons": reasons, "card": {"bin": card_bin, "last4": last4}})
    log_event(logging.INFO, "payment screened", screening_id=screening_id, order_id=order_id, decision=decision,
              reasons=reasons, attempts_in_window=attempts, card_last4=last4)
    return jsonify(decision_json(row)), 201


def find(cur, screening_id, lock=False):
    """The screenings row, else 404."""
    cur.execute("SELECT * FROM screenings WHERE id = %s" + (" FOR UPDATE" if lock else ""), (screening_id,))
    row = cur.fetchone()
    if row is None:
        raise ApiError(404, "decision not found", id=screening_id)
    return row


@app.get("/screenings/<screening_id>")
@app.get("/decisions/<screening_id>")
@roles(*INTERNAL)
def get_decision(screening_id):
    """One recorded decision."""
    with db.transaction() as cur:
        row = find(cur, screening_id)
    return jsonify(decision_json(row))


@app.get("/decisions")
@roles(*INTERNAL)
def list_decisions():
    """Recorded decisions, newest first, filtered by last4, bin, order_id, payment_id, customer, decision."""
    filters = {column: request.args.get(param) for param, column in (
        ("last4", "card_last4"), ("bin", "card_bin"), ("order_id", "order_id"), ("payment_id", "payment_id"),
        ("customer", "customer"), ("decision", "decision"))}
    limit = query_limit()
    with db.transaction() as cur:
        rows = newest_first(cur, "screenings", filters, limit)
    return jsonify({"decisions": [decision_json(row) for row in rows]})


@app.post("/screenings/<screening_id>/review")
@app.post("/decisions/<screening_id>/review")
@roles(*INTERNAL)
def review(screening_id):
    """Record a staff decision on a 'review' screening; repeating the same decision is a no-op."""
    body = json_body()
    decision, note = parse_review(body)
    reviewer = optional(body, "reviewer", str) or g.principal.actor
    with db.transaction() as cur:
        row = find(cur, screening_id, lock=True)
        if row["decision"] != "review":
            raise ApiError(409, f"decision was {row['decision']}, not review", reason="not under review")
        if row["review_decision"]:
            if row["review_decision"] != decision:
                raise ApiError(409, f"already reviewed: {row['review_decision']}", reason="already reviewed")
            return jsonify(decision_json(row))
        cur.execute("UPDATE screenings SET review_decision = %s, reviewer = %s, review_note = %s, reviewed_at = now()"
                    " WHERE id = %s RETURNING *", (decision, reviewer, note, screening_id))
        row = cur.fetchone()
        emit(cur, "fraud.reviewed", {"screening_id": screening_id, "order_id": row["order_id"],
                                     "payment_id": row["payment_id"], "decision": decision, "reviewer": reviewer})
    log_event(logging.INFO, "decision reviewed", screening_id=screening_id, decision=decision, reviewer=reviewer)
    return jsonify(decision_json(row))


def blocklist_json(row):
    """Public JSON form of a blocklist row (no fingerprint)."""
    return {"id": row["id"], "kind": row["kind"], "bin": row["bin"], "last4": row["last4"],
            "created_by": row["created_by"], "created_at": iso(row["created_at"])}


@app.post("/blocklist")
@roles("staff", "admin")
def block():
    """Block a card ({"card_number"}: only its fingerprint, BIN and last4 are kept) or a BIN ({"bin"})."""
    body = json_body()
    has_card, has_bin = body.get("card_number") is not None, body.get("bin") is not None
    if has_card == has_bin:
        raise ApiError(400, "send exactly one of card_number or bin")
    if has_card:
        raw = body["card_number"]
        digits = re.sub(r"[ -]", "", raw) if isinstance(raw, str) else ""
        if not digits.isdigit() or not digits.isascii() or not 12 <= len(digits) <= 19:
            raise ApiError(400, "card_number must be a string of 12 to 19 digits")
        kind, value = "card", card_fingerprint(digits)
        card_bin, last4 = digits[:6], digits[-4:]
    else:
        card_bin = require(body, "bin", str)
        if not re.fullmatch(r"[0-9]{6}", card_bin):
            raise ApiError(400, "bin must be 6 digits")
        kind, value, last4 = "bin", card_bin, None
    with db.transaction() as cur:
        cur.execute("INSERT INTO blocklist (id, kind, value, bin, last4, created_by) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (kind, value) DO NOTHING RETURNING *",
                    (str(uuid.uuid4()), kind, value, card_bin, last4, g.principal.actor))
        row = cur.fetchone()
        created = row is not None
        if not created:
            cur.execute("SELECT * FROM blocklist WHERE kind = %s AND value = %s", (kind, value))
            row = cur.fetchone()
    log_event(logging.INFO, "blocklist entry added" if created else "blocklist entry exists", kind=kind,
              bin=card_bin, last4=last4)
    return jsonify(blocklist_json(row)), 201 if created else 200


@app.get("/blocklist")
@roles("staff", "admin")
def list_blocklist():
    """Every blocklist entry, newest first."""
    with db.transaction() as cur:
        cur.execute("SELECT * FROM blocklist ORDER BY created_at DESC, id")
        rows = cur.fetchall()
    return jsonify({"entries": [blocklist_json(row) for row in rows]})


@app.delete("/blocklist/<entry_id>")
@roles("staff", "admin")
def unblock(entry_id):
    """Remove a blocklist entry."""
    with db.transaction() as cur:
        cur.execute("DELETE FROM blocklist WHERE id = %s RETURNING *", (entry_id,))
        row = cur.fetchone()
    if row is None:
        raise ApiError(404, "blocklist entry not found", id=entry_id)
    log_event(logging.INFO, "blocklist entry removed", kind=row["kind"], bin=row["bin"], last4=row["last4"])
    return jsonify(blocklist_json(row))


@on_worker_start
def start_background():
    """Schema warm-up and outbox relay for this worker."""
    db.warm_up()
    relay.start()
