"""HS256 bearer tokens: verify callers, check roles, mint short-lived service tokens for downstream calls."""
import functools
import os
import time
from dataclasses import dataclass, field

import jwt
from flask import g, has_request_context

from service import SERVICE, ApiError

SECRET = os.environ.get("JWT_SECRET", "")
if not SECRET:
    raise RuntimeError("JWT_SECRET must be set: every service verifies HS256 tokens with it")
ROLES = ("customer", "staff", "admin", "service")
SERVICE_TOKEN_SECONDS = 60
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="crucible"'}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role, and for service tokens whom they act for."""

    sub: str
    role: str
    act: dict = field(default_factory=dict)

    @property
    def actor(self):
        """The person behind the call: the acting subject of a service token, else the subject."""
        return self.act.get("sub") or self.sub


def authenticate(header):
    """Return the Principal of an 'Authorization: Bearer <jwt>' header, else raise a 401 ApiError."""
    if not header:
        raise ApiError(401, "missing bearer token", CHALLENGE)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "the Authorization header must be 'Bearer <token>'", CHALLENGE)
    try:
        claims = jwt.decode(token.strip(), SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token expired", CHALLENGE) from None
    except jwt.InvalidTokenError as exc:
        raise ApiError(401, f"invalid token: {exc}", CHALLENGE) from None
    sub, role = claims.get("sub"), claims.get("role")
    if not isinstance(sub, str) or not sub.strip():
        raise ApiError(401, "invalid token: sub must be a non-empty string", CHALLENGE)
    if role not in ROLES:
        raise ApiError(401, f"invalid token: role must be one of {', '.join(ROLES)}", CHALLENGE)
    act = claims.get("act") if role == "service" and isinstance(claims.get("act"), dict) else {}
    return Principal(sub=sub, role=role, act=act)


def roles(*allowed):
    """Decorate a view so that only tokens with one of the allowed roles may call it (else 403)."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            principal = g.principal
            if principal.role not in allowed:
                raise ApiError(403, f"role '{principal.role}' may not do this", role=principal.role,
                               allowed_roles=list(allowed))
            return view(*args, **kwargs)

        return guarded

    return decorate


def service_token():
    """A 60-second token with role 'service' and this service as subject, acting for the caller."""
    now = int(time.time())
    claims = {"sub": SERVICE, "role": "service", "iat": now, "exp": now + SERVICE_TOKEN_SECONDS}
    principal = g.get("principal") if has_request_context() else None
    if principal is not None:
        claims["act"] = {"sub": principal.actor, "role": principal.act.get("role") or principal.role}
    return jwt.encode(claims, SECRET, algorithm="HS256")
