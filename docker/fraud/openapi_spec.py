"""The fraud service's OpenAPI 3.0.3 document (hand-written)."""
from openapi import NAME, NULLABLE, body, document, errors, operation, path_param, query_param, ref, response

DECISION_ID = path_param("screening_id", "Decision (screening) id.")

SCHEMAS = {
    "ScreeningRequest": {
        "type": "object", "required": ["amount_cents", "card"],
        "properties": {
            "amount_cents": {"type": "integer", "minimum": 0},
            "card": {
                "type": "object", "required": ["fingerprint", "bin", "last4"],
                "description": "Never the card number: a request whose card has a number field is refused (400).",
                "properties": {
                    "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                    "description": "sha256 hex digest of the card number's digits."},
                    "bin": {"type": "string", "pattern": "^[0-9]{6}$"},
                    "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                },
            },
            "order_id": NAME, "payment_id": NAME, "customer": NAME,
        },
    },
    "Decision": {
        "type": "object",
        "required": ["id", "amount_cents", "card", "decision", "reasons", "final_decision", "review", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "order_id": NULLABLE, "payment_id": NULLABLE, "customer": NULLABLE,
            "amount_cents": {"type": "integer"},
            "card": {"type": "object", "required": ["bin", "last4"],
                     "properties": {"bin": {"type": "string"}, "last4": {"type": "string"}}},
            "decision": {"type": "string", "enum": ["approve", "review", "decline"]},
            "reasons": {"type": "array", "items": {"type": "string", "enum": [
                "blocked card", "blocked bin", "velocity", "amount over limit", "amount over review threshold"]},
                "description": "Why: every decline reason that applied, else the review reason, else empty."},
            "final_decision": {"type": "string", "enum": ["approve", "review", "decline"],
                               "description": "The staff review's decision if reviewed, else decision."},
            "review": {
                "type": "object", "nullable": True, "required": ["decision", "reviewer", "reviewed_at"],
                "properties": {"decision": {"type": "string", "enum": ["approve", "decline"]},
                               "reviewer": {"type": "string"}, "note": NULLABLE,
                               "reviewed_at": {"type": "string", "format": "date-time"}},
            },
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "DecisionList": {"type": "object", "required": ["decisions"],
                     "properties": {"decisions": {"type": "array", "items": ref("Decision")}}},
    "ReviewRequest": {
        "type": "object", "required": ["decision"],
        "properties": {"decision": {"type": "string", "enum": ["approve", "decline"]},
                       "note": NAME,
                       "reviewer": {**NAME, "description": "Defaults to the token's subject (or the person a "
                                                           "service token acts for)."}},
    },
    "BlockRequest": {
        "type": "object", "description": "Exactly one of card_number or bin.",
        "properties": {"card_number": {"type": "string", "description": "12-19 digits; only its sha256 "
                                                                       "fingerprint, BIN and last4 are kept."},
                       "bin": {"type": "string", "pattern": "^[0-9]{6}$"}},
    },
    "BlockEntry": {
        "type": "object", "required": ["id", "kind", "bin", "last4", "created_by", "created_at"],
        "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["card", "bin"]},
                       "bin": NULLABLE, "last4": NULLABLE, "created_by": {"type": "string"},
                       "created_at": {"type": "string", "format": "date-time"}},
    },
    "BlockList": {"type": "object", "required": ["entries"],
                  "properties": {"entries": {"type": "array", "items": ref("BlockEntry")}}},
    "Rules": {
        "type": "object", "required": ["review_over_cents", "decline_over_cents", "velocity_max",
                                       "velocity_window_minutes"],
        "properties": {"review_over_cents": {"type": "integer"}, "decline_over_cents": {"type": "integer"},
                       "velocity_max": {"type": "integer"}, "velocity_window_minutes": {"type": "number"}},
    },
}

INTERNAL = ("service", "staff", "admin")
STAFF = ("staff", "admin")
REVIEW = operation(
    "Record a staff decision on a decision that said review.", INTERNAL,
    {"200": response("Reviewed (repeating the same decision changes nothing).", ref("Decision")),
     **errors(400, 401, 403, 404, 503, e409="The decision was not review, or was already reviewed differently.")},
    body(ref("ReviewRequest")), (DECISION_ID,))

PATHS = {
    "/rules": {"get": operation("The thresholds the rules use (from the environment). Not for customers: "
                                "knowing them helps to slip under them.", INTERNAL,
                                {"200": response("Rules.", ref("Rules")), **errors(401, 403, 503)})},
    "/screenings": {
        "post": operation(
            "Screen a payment attempt.", INTERNAL,
            {"201": response("The recorded decision.", ref("Decision")), **errors(400, 401, 403, 503)},
            body(ref("ScreeningRequest")),
            description="Rules, all evaluated: card fingerprint blocklisted -> decline \"blocked card\"; BIN "
                        "blocklisted -> decline \"blocked bin\"; more than FRAUD_VELOCITY_MAX (3) attempts with the "
                        "card within FRAUD_VELOCITY_WINDOW_MINUTES (10), this one included -> decline \"velocity\"; "
                        "amount_cents > FRAUD_DECLINE_OVER_CENTS (200000) -> decline \"amount over limit\"; else "
                        "amount_cents > FRAUD_REVIEW_OVER_CENTS (50000) -> review \"amount over review threshold\"; "
                        "else approve. Every attempt counts towards velocity."),
    },
    "/screenings/{screening_id}": {
        "get": operation("One decision (same as /decisions/{screening_id}).", INTERNAL,
                         {"200": response("The decision.", ref("Decision")), **errors(401, 403, 404, 503)},
                         parameters=(DECISION_ID,)),
    },
    "/screenings/{screening_id}/review": {"post": REVIEW},
    "/decisions/{screening_id}": {
        "get": operation("One decision.", INTERNAL,
                         {"200": response("The decision.", ref("Decision")), **errors(401, 403, 404, 503)},
                         parameters=(DECISION_ID,)),
    },
    "/decisions/{screening_id}/review": {"post": REVIEW},
    "/decisions": {
        "get": operation(
            "Recorded decisions, newest first.", INTERNAL,
            {"200": response("Matching decisions.", ref("DecisionList")), **errors(400, 401, 403, 503)},
            parameters=(query_param("last4", "Card last four digits."), query_param("bin", "Card BIN."),
                        query_param("order_id", "Order id."), query_param("payment_id", "Payment id."),
                        query_param("customer", "Customer id."),
                        query_param("decision", "approve, review or decline.",
                                    {"type": "string", "enum": ["approve", "review", "decline"]}),
                        query_param("limit", "At most this many (1-500, default 100).",
                                    {"type": "integer", "minimum": 1, "maximum": 500}))),
    },
    "/blocklist": {
        "post": operation("Block a card or a BIN.", STAFF,
                          {"201": response("Blocked.", ref("BlockEntry")),
                           "200": response("Already blocked: the existing entry.", ref("BlockEntry")),
                           **errors(400, 401, 403, 503)},
                          body(ref("BlockRequest"))),
        "get": operation("Every blocklist entry.", STAFF,
                         {"200": response("Entries.", ref("BlockList")), **errors(401, 403, 503)}),
    },
    "/blocklist/{entry_id}": {
        "delete": operation("Remove a blocklist entry.", STAFF,
                            {"200": response("The removed entry.", ref("BlockEntry")), **errors(401, 403, 404, 503)},
                            parameters=(path_param("entry_id", "Blocklist entry id."),)),
    },
}

SPEC = document(
    "Crucible fraud service",
    "Risk decisions for payment attempts. Decisions and staff reviews are recorded and published "
    "(fraud.screened, fraud.reviewed). Card numbers are never accepted, stored or returned.",
    PATHS, SCHEMAS)
