"""Signed bearer tokens (HS256) that the services under test accept, minted with the stack's shared secret."""

from __future__ import annotations

import os
import time

import jwt

from crucible.compose import Project
from crucible.errors import TestDataError

SECRET_ENV = "CRUCIBLE_JWT_SECRET"
SERVICE_SECRET_KEY = "JWT_SECRET"
ROLES = ("customer", "staff", "admin")
DEFAULT_TTL_S = 3600


def secret(project: Project) -> str:
    """The signing secret: $CRUCIBLE_JWT_SECRET, else the JWT_SECRET a service of the stack is given."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    for service in project.services.values():
        if service.environment.get(SERVICE_SECRET_KEY):
            return service.environment[SERVICE_SECRET_KEY]
    raise TestDataError(f"No token secret: no service in {project.path} has {SERVICE_SECRET_KEY} in its "
                        f"environment. Set {SECRET_ENV} to the secret your services verify tokens with.")


def mint(subject: str, role: str, key: str, ttl: int = DEFAULT_TTL_S) -> str:
    """A token for ``subject`` with ``role``, valid for ``ttl`` seconds (negative: already expired)."""
    if role not in ROLES:
        raise TestDataError(f"Unknown role '{role}': use one of {', '.join(ROLES)}.")
    now = int(time.time())
    return jwt.encode({"sub": subject, "role": role, "iat": now, "exp": now + ttl}, key, algorithm="HS256")
