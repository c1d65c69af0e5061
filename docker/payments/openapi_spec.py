"""The payments service's OpenAPI 3.0.3 document (hand-written)."""
from openapi import (IDEMPOTENCY_KEY, NAME, NULLABLE, REVIEW_REQUEST, body, document, errors, operation, path_param,
                     query_param, ref, response)

PAYMENT_ID = path_param("payment_id", "Payment id (uuid).")
STATUSES = ["authorised", "pending_review", "declined", "captured", "partially_refunded", "refunded", "voided"]

SCHEMAS = {
    "AuthoriseRequest": {
        "type": "object", "required": ["order_id", "amount_cents", "card"],
        "properties": {
            "order_id": NAME,
            "amount_cents": {"type": "integer", "minimum": 1, "maximum": 100000000000},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "default": "EUR"},
            "customer": NAME,
            "card": {"type": "object", "required": ["number"],
                     "properties": {"number": {"type": "string", "description": "12-19 digits (spaces and dashes "
                                                                               "ignored) with a valid Luhn checksum."}}},
        },
    },
    "Payment": {
        "type": "object",
        "required": ["id", "order_id", "amount_cents", "currency", "status", "captured_cents", "refunded_cents",
                     "card", "decline_reason", "decline_detail", "fraud", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string"}, "order_id": {"type": "string"}, "customer": NULLABLE,
            "amount_cents": {"type": "integer"}, "currency": {"type": "string"},
            "status": {"type": "string", "enum": STATUSES},
            "captured_cents": {"type": "integer"}, "refunded_cents": {"type": "integer"},
            "card": {"type": "object", "required": ["bin", "last4"],
                     "description": "Only the BIN and last four digits are kept.",
                     "properties": {"bin": {"type": "string"}, "last4": {"type": "string"}}},
            "decline_reason": {"type": "string", "nullable": True, "enum": ["payment declined", "fraud declined", None]},
            "decline_detail": {**NULLABLE, "description": "Issuer: \"card declined\", \"insufficient funds\"; fraud: "
                                                          "its reasons joined with \", \" or \"declined by review\"."},
            "fraud": {"type": "object", "required": ["screening_id", "decision", "reasons", "review_decision"],
                      "properties": {"screening_id": NULLABLE,
                                     "decision": {"type": "string", "enum": ["approve", "review", "decline"]},
                                     "reasons": {"type": "array", "items": {"type": "string"}},
                                     "review_decision": {"type": "string", "nullable": True,
                                                         "enum": ["approve", "decline", None]}}},
            "refunds": {"type": "array", "items": ref("Refund"), "description": "Only in GET /payments/{id}."},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "PaymentList": {"type": "object", "required": ["payments"],
                    "properties": {"payments": {"type": "array", "items": ref("Payment")}}},
    "ReviewRequest": REVIEW_REQUEST,
    "RefundRequest": {"type": "object", "required": ["amount_cents"],
                      "properties": {"amount_cents": {"type": "integer", "minimum": 1}, "reason": NAME}},
    "Refund": {
        "type": "object", "required": ["id", "payment_id", "amount_cents", "status", "created_at"],
        "properties": {"id": {"type": "string"}, "payment_id": {"type": "string"},
                       "amount_cents": {"type": "integer"}, "reason": NULLABLE,
                       "status": {"type": "string", "enum": ["succeeded"]},
                       "created_at": {"type": "string", "format": "date-time"}},
    },
    "RefundResult": {"allOf": [ref("Refund"), {"type": "object", "required": ["payment"],
                                               "properties": {"payment": ref("Payment")}}]},
}

INTERNAL = ("service", "staff", "admin")
NOT_STATE = "The payment is not in a state that allows this (body has reason and status)."

PATHS = {
    "/payments": {
        "post": operation(
            "Authorise a card payment (fraud screens it first).", INTERNAL,
            {"201": response("Authorised.", ref("Payment")),
             "202": response("Authorised pending a staff review (fraud said review).", ref("Payment")),
             "402": response("Declined: decline_reason \"fraud declined\" or \"payment declined\".", ref("Payment")),
             **errors(400, 401, 403, 503, e422="The Idempotency-Key was used with a different request.",
                      e400="Bad input; an invalid card number gives reason \"invalid card\".",
                      e503="Fraud screening unavailable (reason \"fraud unavailable\"); nothing was stored, retry.")},
            body(ref("AuthoriseRequest")), (IDEMPOTENCY_KEY,),
            description="A repeated Idempotency-Key with the same body returns the first result (same status, "
                        "header Idempotent-Replayed: true) without screening or charging again. Test cards: any "
                        "Luhn-valid number authorises unless fraud declines it, except numbers ending in 0002 "
                        "(\"card declined\") and 0051 (\"insufficient funds\")."),
        "get": operation("Payments of an order.", INTERNAL,
                         {"200": response("Payments, oldest first.", ref("PaymentList")), **errors(400, 401, 403, 503)},
                         parameters=(query_param("order_id", "Order id (required)."),)),
    },
    "/payments/{payment_id}": {
        "get": operation("One payment, with its refunds.", INTERNAL,
                         {"200": response("The payment.", ref("Payment")), **errors(401, 403, 404, 503)},
                         parameters=(PAYMENT_ID,)),
    },
    "/payments/{payment_id}/capture": {
        "post": operation("Capture an authorised payment in full (again: no-op).", INTERNAL,
                          {"200": response("Captured.", ref("Payment")), **errors(401, 403, 404, 503, e409=NOT_STATE)},
                          parameters=(PAYMENT_ID,)),
    },
    "/payments/{payment_id}/void": {
        "post": operation("Cancel an uncaptured authorisation (again: no-op).", INTERNAL,
                          {"200": response("Voided.", ref("Payment")), **errors(401, 403, 404, 503, e409=NOT_STATE)},
                          parameters=(PAYMENT_ID,)),
    },
    "/payments/{payment_id}/review": {
        "post": operation("Apply a staff decision to a payment pending review (recorded by fraud first).", INTERNAL,
                          {"200": response("approve -> authorised; decline -> declined (\"fraud declined\", "
                                           "\"declined by review\").", ref("Payment")),
                           **errors(400, 401, 403, 404, 503, e409=NOT_STATE)},
                          body(ref("ReviewRequest")), (PAYMENT_ID,)),
    },
    "/payments/{payment_id}/refunds": {
        "post": operation(
            "Refund part or all of a captured payment.", INTERNAL,
            {"201": response("Refunded (or the first result of this Idempotency-Key).", ref("RefundResult")),
             **errors(400, 401, 403, 404, 503,
                      e409="Not captured (reason \"not captured\") or more than the captured amount not yet "
                           "refunded (reason \"refund exceeds captured amount\", refundable_cents).",
                      e422="The Idempotency-Key was used with a different refund.")},
            body(ref("RefundRequest")), (PAYMENT_ID, IDEMPOTENCY_KEY)),
    },
}

SPEC = document(
    "Crucible payments service",
    "Card authorisations, captures, voids, staff reviews and refunds with idempotency keys. Keeps only the "
    "card's BIN and last four digits. Events: payment.authorised (status authorised or pending_review), "
    "payment.declined, payment.reviewed, payment.captured, payment.voided, payment.refunded.",
    PATHS, SCHEMAS)
