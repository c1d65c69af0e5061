"""The inventory service's OpenAPI 3.0.3 document (hand-written)."""
from openapi import NAME, body, document, errors, operation, path_param, ref, response

STORE, SKU = path_param("store", "Store id."), path_param("sku", "Stock keeping unit.")
RESERVATION = path_param("reservation_id", "Reservation id (uuid).")
ITEM = {"type": "object", "required": ["sku", "quantity"],
        "properties": {"sku": NAME, "quantity": {"type": "integer", "minimum": 1}}}

SCHEMAS = {
    "Stock": {
        "type": "object", "required": ["store", "sku", "quantity", "version"],
        "properties": {
            "store": {"type": "string"}, "sku": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 0, "description": "Available to sell (reserved stock excluded)."},
            "version": {"type": "integer", "description": "Increases by one with every change of this level."},
        },
    },
    "SetStock": {"type": "object", "required": ["quantity"],
                 "properties": {"quantity": {"type": "integer", "minimum": 0, "maximum": 1000000000}}},
    "Restock": {
        "type": "object", "required": ["quantity"],
        "properties": {
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000000},
            "cause": {"type": "string", "enum": ["restock", "return"], "default": "restock",
                      "description": "Copied into the stock.changed event."},
            "reference": {**NAME, "description": "Idempotency reference: a reference already applied changes nothing."},
            "order_id": {**NAME, "description": "Order the stock came back from (returns)."},
        },
    },
    "RestockResult": {
        "allOf": [ref("Stock"), {
            "type": "object", "required": ["delta", "replayed"],
            "properties": {"delta": {"type": "integer"},
                           "replayed": {"type": "boolean", "description": "True if the reference was already applied."}},
        }],
    },
    "TransferRequest": {
        "type": "object", "required": ["from", "to", "sku", "quantity"],
        "properties": {"from": NAME, "to": NAME, "sku": NAME,
                       "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000000}},
    },
    "Transfer": {
        "type": "object", "required": ["id", "from", "to", "sku", "quantity", "created_at"],
        "properties": {
            "id": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"}, "sku": {"type": "string"},
            "quantity": {"type": "integer"},
            "from_quantity": {"type": "integer", "description": "Source store's level after the transfer."},
            "to_quantity": {"type": "integer", "description": "Target store's level after the transfer."},
            "created_by": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Availability": {
        "type": "object", "required": ["sku", "total", "stores", "updated_at"],
        "properties": {
            "sku": {"type": "string"},
            "total": {"type": "integer", "description": "Sum over all stores."},
            "stores": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "Store id -> quantity available to sell."},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "ReservationRequest": {
        "type": "object", "required": ["order_id", "store", "items"],
        "properties": {
            "order_id": NAME, "store": NAME,
            "items": {"type": "array", "minItems": 1, "maxItems": 100, "items": ITEM},
            "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000, "default": 900,
                            "description": "The reservation expires (stock back) this long after creation unless confirmed."},
        },
    },
    "Extend": {"type": "object", "required": ["ttl_seconds"],
               "properties": {"ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000}}},
    "Reservation": {
        "type": "object",
        "required": ["id", "reservation_id", "order_id", "store", "items", "status", "expires_at", "created_at"],
        "properties": {
            "id": {"type": "string"}, "reservation_id": {"type": "string", "description": "Same as id."},
            "order_id": {"type": "string"}, "store": {"type": "string"},
            "items": {"type": "array", "items": ITEM},
            "status": {"type": "string", "enum": ["reserved", "confirmed", "released", "expired"]},
            "expires_at": {"type": "string", "format": "date-time"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "NotEnoughStock": {
        "type": "object", "required": ["error", "reason", "store", "sku", "requested", "available"],
        "properties": {
            "error": {"type": "string", "enum": ["not enough stock"]},
            "reason": {"type": "string", "enum": ["not enough stock"]},
            "store": {"type": "string"}, "sku": {"type": "string"},
            "requested": {"type": "integer"}, "available": {"type": "integer"},
        },
    },
}

ANY_ROLE = ("customer", "staff", "admin", "service")
INTERNAL = ("service", "staff", "admin")
NOT_ENOUGH = response("Not enough stock in the store.", ref("NotEnoughStock"))
RELEASED = {"200": response("Released (or already released/expired).", ref("Reservation")),
            **errors(401, 403, 404, 503, e409="The reservation is confirmed.")}

PATHS = {
    "/stock/{store}/{sku}": {
        "put": operation("Set a store's stock level of a sku (event cause \"set\").", ("staff", "admin"),
                         {"200": response("The new level.", ref("Stock")), **errors(400, 401, 403, 503)},
                         body(ref("SetStock")), (STORE, SKU)),
        "get": operation("A store's stock level of a sku.", ANY_ROLE,
                         {"200": response("The level.", ref("Stock")), **errors(401, 403, 404, 503)},
                         parameters=(STORE, SKU)),
    },
    "/stock/{store}/{sku}/restock": {
        "post": operation("Add stock (delivery, or a customer return received by this store).",
                          ("staff", "admin", "service"),
                          {"200": response("The new level.", ref("RestockResult")), **errors(400, 401, 403, 503)},
                          body(ref("Restock")), (STORE, SKU)),
    },
    "/transfers": {
        "post": operation("Move stock of one sku between two stores atomically (two stock.changed events, "
                          "cause \"transfer\").", ("staff", "admin"),
                          {"201": response("Transferred.", ref("Transfer")), **errors(400, 401, 403, 503),
                           "409": NOT_ENOUGH},
                          body(ref("TransferRequest"))),
    },
    "/transfers/{transfer_id}": {
        "get": operation("One transfer.", ("staff", "admin"),
                         {"200": response("The transfer.", ref("Transfer")), **errors(401, 403, 404, 503)},
                         parameters=(path_param("transfer_id", "Transfer id."),)),
    },
    "/availability/{sku}": {
        "get": operation("Chain-wide availability of a sku.", ANY_ROLE,
                         {"200": response("Per-store and total availability.", ref("Availability")),
                          **errors(401, 403, 503, e404="No stock.changed event for this sku has been applied yet.")},
                         parameters=(SKU,),
                         description="Maintained by consuming stock.changed events from the broker (queue "
                                     "inventory.availability): it reflects a stock change within 1 second while "
                                     "the broker is up, and catches up after a broker outage."),
    },
    "/reservations": {
        "post": operation("Reserve all items of an order in one store, or none.", INTERNAL,
                          {"201": response("Reserved (stock taken, event cause \"reserve\").", ref("Reservation")),
                           **errors(401, 403, 503, e400="Bad input; a quantity <= 0 gives reason "
                                                        "\"quantity must be positive\"."),
                           "409": NOT_ENOUGH},
                          body(ref("ReservationRequest"))),
    },
    "/reservations/{reservation_id}": {
        "get": operation("One reservation.", INTERNAL,
                         {"200": response("The reservation.", ref("Reservation")), **errors(401, 403, 404, 503)},
                         parameters=(RESERVATION,)),
        "delete": operation("Release a reservation (same as POST .../release).", INTERNAL, RELEASED,
                            parameters=(RESERVATION,)),
    },
    "/reservations/{reservation_id}/confirm": {
        "post": operation("Confirm a reservation: it becomes final and no longer expires.", INTERNAL,
                          {"200": response("Confirmed (or already confirmed).", ref("Reservation")),
                           **errors(401, 403, 404, 503, e409="The reservation was released or has expired.")},
                          parameters=(RESERVATION,)),
    },
    "/reservations/{reservation_id}/release": {
        "post": operation("Release a reservation: stock back to the store (event cause \"release\").", INTERNAL,
                          RELEASED, parameters=(RESERVATION,)),
    },
    "/reservations/{reservation_id}/extend": {
        "post": operation("Make a reserved reservation expire ttl_seconds from now.", INTERNAL,
                          {"200": response("Extended.", ref("Reservation")),
                           **errors(400, 401, 403, 404, 503, e409="The reservation is no longer reserved.")},
                          body(ref("Extend")), (RESERVATION,)),
    },
}

SPEC = document(
    "Crucible inventory service",
    "Stock per store and sku, reservations that expire unless confirmed (a sweeper releases them within "
    "1 second of expires_at), restocks, transfers, and chain-wide availability. Every stock change writes a "
    "stock.changed event to the outbox in the same transaction.",
    PATHS, SCHEMAS)
