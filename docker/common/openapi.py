"""Building blocks for the services' hand-written OpenAPI 3.0.3 documents."""

NAME = {"type": "string", "minLength": 1, "maxLength": 200}  # a string field as service.require(..., str) checks it
NULLABLE = {"type": "string", "nullable": True}
REVIEW_REQUEST = {"type": "object", "required": ["decision"],
                  "properties": {"decision": {"type": "string", "enum": ["approve", "decline"]}, "note": NAME}}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What was wrong, in words."},
        "reason": {"type": "string", "description": "A machine-readable reason, where the endpoint defines one."},
    },
    "additionalProperties": True,
}

HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["live", "ready", "unavailable"]},
        "error": {"type": "string"},
        "checks": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Each check's result: \"ok\" or what failed."},
    },
}

STATUS_TEXT = {
    400: "Invalid JSON, a missing field or a field of the wrong type or range.",
    401: "Missing, malformed, badly signed or expired bearer token.",
    403: "The token's role may not call this endpoint.",
    404: "No such resource (or it belongs to another customer).",
    409: "The request conflicts with the resource's current state.",
    422: "The idempotency key was already used with a different request body.",
    503: "A database or downstream service is unavailable.",
}


def ref(name):
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def body(schema, description=None):
    """A required JSON request body."""
    out = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        out["description"] = description
    return out


def response(description, schema):
    """A JSON response."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes, **texts):
    """Error responses for the given status codes plus those described as e409='...'."""
    codes = sorted({*codes, *(int(key[1:]) for key in texts)})
    return {str(code): response(texts.get(f"e{code}", STATUS_TEXT[code]), ref("Error")) for code in codes}


def path_param(name, description):
    """A required string path parameter."""
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def query_param(name, description, schema=None):
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "Client-chosen key (1-200 printable characters). Repeating a key with the same body "
                   "returns the first result (and header Idempotent-Replayed: true) without doing the work again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
REQUEST_ID = {
    "name": "X-Request-ID", "in": "header", "required": False,
    "description": "Correlation id; generated (uuid4) if absent, echoed in the response, passed downstream.",
    "schema": {"type": "string", "maxLength": 200},
}


def operation(summary, roles, responses, request=None, parameters=(), description=None):
    """One operation; roles (None = public) are stated in the description and x-roles."""
    op = {"summary": summary, "parameters": [REQUEST_ID, *parameters], "responses": responses}
    text = description or ""
    if roles is None:
        op["security"] = []
    else:
        op["x-roles"] = list(roles)
        text = (text + "\n\n" if text else "") + "Roles: " + ", ".join(roles) + "."
    if text:
        op["description"] = text
    if request is not None:
        op["requestBody"] = request
    return op


def document(title, description, paths, schemas):
    """The whole document, with the shared Error/Health schemas, bearer auth and health endpoints."""
    paths = {
        "/health/live": {"get": operation("Liveness: the process serves HTTP.", None,
                                          {"200": response("Live.", ref("Health"))})},
        "/health/ready": {"get": operation(
            "Readiness: SELECT 1 on the service database works and the broker connection is up.", None,
            {"200": response("Ready.", ref("Health")), "503": response("Not ready; checks say why.", ref("Health"))})},
        "/openapi.json": {"get": operation("This document.", None,
                                           {"200": response("The OpenAPI 3.0.3 document.", {"type": "object"})})},
        **paths,
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "HS256 JWT signed with JWT_SECRET; claims sub, role (customer|staff|admin|service), exp."}},
            "schemas": {"Error": ERROR, "Health": HEALTH, **schemas},
        },
    }
