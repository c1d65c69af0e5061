"""The orders service's OpenAPI 3.0.3 document (hand-written)."""
from openapi import (IDEMPOTENCY_KEY, NAME, NULLABLE, REVIEW_REQUEST, body, document, errors, operation, path_param,
                     query_param, ref, response)

ORDER_ID = path_param("order_id", "Order id (uuid).")
STATUSES = ["pending", "held", "confirmed", "rejected", "partially_returned", "returned"]
REASONS = ["not enough stock", "quantity must be positive", "payment declined", "fraud declined",
           "fraud review", "inventory unavailable", "payments unavailable", "reservation expired"]

SCHEMAS = {
    "OrderRequest": {
        "type": "object", "required": ["store", "items", "card"],
        "properties": {
            "customer": {**NAME, "description": "Customers: optional, must equal the token's sub. Staff/admin: required."},
            "store": NAME,
            "items": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                "type": "object", "required": ["sku", "quantity", "unit_price_cents"],
                "properties": {"sku": NAME,
                               "quantity": {"type": "integer", "description": "<= 0 rejects the order (422, "
                                                                          "\"quantity must be positive\")."},
                               "unit_price_cents": {"type": "integer", "minimum": 0}}}},
            "currency": {"type": "string", "default": "EUR"},
            "card": {"type": "object", "required": ["number"],
                     "properties": {"number": {"type": "string", "description": "12-19 digits, Luhn-valid. Only "
                                                                               "its last four digits are kept."}}},
        },
    },
    "OrderItem": {
        "type": "object", "required": ["sku", "quantity", "unit_price_cents", "returned_quantity"],
        "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer"},
                       "unit_price_cents": {"type": "integer"}, "returned_quantity": {"type": "integer"}},
    },
    "Order": {
        "type": "object",
        "required": ["id", "customer", "store", "items", "total_cents", "refunded_cents", "currency", "status",
                     "reason", "detail", "card", "payment_id", "reservation_id", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string"}, "customer": {"type": "string"}, "store": {"type": "string"},
            "items": {"type": "array", "items": ref("OrderItem")},
            "total_cents": {"type": "integer"}, "refunded_cents": {"type": "integer"}, "currency": {"type": "string"},
            "status": {"type": "string", "enum": STATUSES},
            "reason": {"type": "string", "nullable": True, "enum": [*REASONS, None],
                       "description": "Why the order was rejected (or \"fraud review\" while held)."},
            "detail": {**NULLABLE, "description": "More precise cause, e.g. \"card declined\", \"velocity\", "
                                                  "\"amount over limit\", \"blocked card\", \"blocked bin\", "
                                                  "\"declined by review\", \"sku X: requested 6, available 5\"."},
            "card": {"type": "object", "required": ["last4"], "properties": {"last4": NULLABLE}},
            "payment_id": NULLABLE, "reservation_id": NULLABLE,
            "returns": {"type": "array", "items": ref("Return"), "description": "Only in GET /orders/{order_id}."},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "OrderList": {"type": "object", "required": ["orders"],
                  "properties": {"orders": {"type": "array", "items": ref("Order")}}},
    "ReviewRequest": REVIEW_REQUEST,
    "ReturnRequest": {
        "type": "object", "required": ["store", "items"],
        "properties": {
            "store": {**NAME, "description": "The store receiving the returned goods: its stock goes up."},
            "items": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["sku", "quantity"],
                "properties": {"sku": NAME, "quantity": {"type": "integer", "minimum": 1}}}},
        },
    },
    "Return": {
        "type": "object",
        "required": ["id", "order_id", "store", "items", "refund_cents", "refund_id", "status", "created_at"],
        "properties": {
            "id": {"type": "string"}, "order_id": {"type": "string"}, "store": {"type": "string"},
            "items": {"type": "array", "items": {
                "type": "object", "required": ["sku", "quantity", "unit_price_cents"],
                "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer"},
                               "unit_price_cents": {"type": "integer"}}}},
            "refund_cents": {"type": "integer"}, "refund_id": NULLABLE,
            "status": {"type": "string", "enum": ["pending", "completed", "failed"]},
            "created_at": {"type": "string", "format": "date-time"},
            "completed_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
    "ReturnResult": {"type": "object", "required": ["return", "order"],
                     "properties": {"return": ref("Return"), "order": ref("Order")}},
    "AlreadyReturned": {
        "type": "object", "required": ["error", "reason", "sku", "bought", "already_returned", "requested"],
        "properties": {"error": {"type": "string"}, "reason": {"type": "string", "enum": ["already returned"]},
                       "sku": {"type": "string"}, "bought": {"type": "integer"},
                       "already_returned": {"type": "integer"}, "requested": {"type": "integer"}},
    },
}

PATHS = {
    "/orders": {
        "post": operation(
            "Checkout: reserve stock, authorise (fraud-screened), capture, confirm.", ("customer", "staff", "admin"),
            {"201": response("Confirmed: stock taken, payment captured.", ref("Order")),
             "202": response("Held for staff review (fraud said review): stock reserved, payment authorised, "
                             "not captured. reason \"fraud review\".", ref("Order")),
             "422": response("Rejected (reason says why); anything taken was given back.", ref("Order")),
             "503": response("Rejected because inventory or payments is unavailable (reason \"inventory "
                             "unavailable\" / \"payments unavailable\").", ref("Order")),
             **errors(400, 401, 403, e403="A customer ordering for another customer.")},
            body(ref("OrderRequest"))),
        "get": operation(
            "Orders, newest first.", ("customer", "staff", "admin", "service"),
            {"200": response("Orders.", ref("OrderList")),
             **errors(400, 401, 503, e403="A customer asked for another customer's orders.")},
            parameters=(query_param("customer", "Staff: only this customer's orders. Customers: only their own "
                                                "sub is allowed (403 otherwise)."),
                        query_param("status", "Only orders in this status.", {"type": "string", "enum": STATUSES}),
                        query_param("limit", "At most this many (1-500, default 100).",
                                    {"type": "integer", "minimum": 1, "maximum": 500}))),
    },
    "/orders/{order_id}": {
        "get": operation("One order with its returns.", ("customer", "staff", "admin", "service"),
                         {"200": response("The order.", ref("Order")),
                          **errors(401, 403, 503, e404="No such order, or it is another customer's.")},
                         parameters=(ORDER_ID,)),
    },
    "/orders/{order_id}/review": {
        "post": operation(
            "Decide a held order.", ("staff", "admin"),
            {"200": response("approve: confirmed (captured, stock confirmed). decline: rejected, reason \"fraud "
                             "declined\", detail \"declined by review\", stock released.", ref("Order")),
             "422": response("Approved but could not be completed (e.g. reservation expired): rejected.",
                             ref("Order")),
             **errors(400, 401, 403, 404, e409="The order is not held (reason \"not held\").",
                      e503="Payments or inventory unavailable; the order is still held (or rejected if "
                           "compensation was needed).")},
            body(ref("ReviewRequest")), (ORDER_ID,)),
    },
    "/orders/{order_id}/returns": {
        "post": operation(
            "Return items of a confirmed order to a store.", ("customer", "staff", "admin"),
            {"201": response("Stock added to the receiving store, then exactly the returned items' price refunded "
                             "once. A repeated Idempotency-Key returns this first result (Idempotent-Replayed: "
                             "true).", ref("ReturnResult")),
             "409": response("More than was bought minus already returned (reason \"already returned\"), the "
                             "order is not confirmed/partially_returned (reason \"not returnable\"), or the "
                             "receiving store cannot take the items back (reason \"restock refused\": nothing "
                             "is refunded).",
                             {"anyOf": [ref("AlreadyReturned"), ref("Error")]}),
             **errors(400, 401, 403, 404, e422="The Idempotency-Key was used with a different return.",
                      e503="Payments or inventory unavailable: the return stays pending; retry with the same "
                           "Idempotency-Key (never refunds twice).")},
            body(ref("ReturnRequest")), (ORDER_ID, IDEMPOTENCY_KEY)),
    },
}

SPEC = document(
    "Crucible orders service",
    "Checkout orchestration over inventory and payments, staff review of held orders, customers' own orders "
    "and idempotent returns. Events: order.placed, order.confirmed, order.rejected, order.held, order.returned.",
    PATHS, SCHEMAS)
