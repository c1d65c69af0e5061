"""How the generic HTTP steps authenticate, as the settings say: none, basic, a bearer token, or signed JWTs.

A service may carry credentials of its own (``[services.NAME] auth = {scheme = "basic", ...}``, also
``bearer`` and ``header`` for an API key): they go to that service only, so a broker's management
password is never sent to a web gateway. ``[auth]`` is the default for every service that names none.

With ``auth.scheme = "jwt"`` a step such as ``I am authenticated as "sam" with the role "staff"``
mints a token signed with the team's secret (``auth.secret``, or ``auth.secret_from =
"SERVICE.VARIABLE"`` to read it from the compose file), carrying the subject and role in the
claims the settings name (``auth.subject_claim``, ``auth.role_claim``) plus ``iat`` and ``exp``.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt

from crucible.errors import SettingsError, TestDataError
from crucible.settings import Settings
from crucible.stack.compose import Project

ALGORITHMS = ("HS256", "HS384", "HS512")


def mint(subject: str, role: str | None, key: str, ttl: int = 3600, *, algorithm: str = "HS256",
         subject_claim: str = "sub", role_claim: str = "role", claims: dict[str, Any] | None = None) -> str:
    """A signed token for ``subject`` (and ``role``), valid for ``ttl`` seconds (negative: already expired)."""
    now = int(time.time())
    payload = {**(claims or {}), subject_claim: subject, "iat": now, "exp": now + ttl}
    if role is not None:
        payload[role_claim] = role
    return jwt.encode(payload, key, algorithm=algorithm)


def basic(user: str, password: str) -> dict[str, str]:
    """The header of HTTP basic authentication."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def service_headers(auth: dict[str, str]) -> dict[str, str]:
    """The headers of one service's own credentials (``[services.NAME] auth``, checked when the settings load)."""
    scheme = auth.get("scheme")
    if scheme == "basic":
        return basic(auth["username"], auth["password"])
    if scheme == "bearer":
        return {"Authorization": f"Bearer {auth['token']}"}
    if scheme == "header":
        return {auth["header"]: auth["value"]}
    return {}


class Auth:
    """The authentication of one project's generic HTTP steps."""

    def __init__(self, settings: Settings, project: Project):
        self.settings = settings
        self.project = project
        self.scheme = settings["auth.scheme"]

    def headers(self, service: str | None = None) -> dict[str, str]:
        """Headers every request to ``service`` carries: its own credentials (``[services.NAME] auth``), else
        ``[auth]``'s basic credentials or bearer token; none otherwise."""
        own = self.settings.service(service).get("auth") if service else None
        if own is not None:
            return service_headers(own)
        if self.scheme == "basic":
            return basic(self._required("auth.username"), self.settings["auth.password"] or "")
        if self.scheme == "bearer":
            return {"Authorization": f"Bearer {self._required('auth.token')}"}
        return {}

    def _required(self, key: str) -> str:
        """A setting the scheme needs; a SettingsError saying which when it is missing."""
        value = self.settings[key]
        if not value:
            raise SettingsError(f"auth.scheme is '{self.scheme}' but {self.settings.where(key)} is not set.")
        return value

    @property
    def roles(self) -> list[str]:
        """The roles tokens may carry (empty: any)."""
        return list(self.settings["auth.roles"])

    def secret(self) -> str:
        """The signing secret (auth.secret, else the compose variable auth.secret_from names)."""
        if self.settings["auth.secret"]:
            return self.settings["auth.secret"]
        source = self.settings["auth.secret_from"]
        if not source:
            raise SettingsError("Signed tokens need a secret; set auth.secret (e.g. \"${JWT_SECRET}\") or "
                                "auth.secret_from = \"SERVICE.VARIABLE\" in the settings.")
        service, _, variable = source.partition(".")
        if service not in self.project.services:
            raise SettingsError(f"{self.settings.where('auth.secret_from')} = '{source}': there is no service "
                                f"'{service}' in {self.project.path}.")
        value = self.project.services[service].environment.get(variable)
        if not value:
            raise SettingsError(f"{self.settings.where('auth.secret_from')} = '{source}': service '{service}' has "
                                f"no {variable} in its environment in {self.project.path}.")
        return value

    def claims(self, subject: str, role: str | None = None, ttl: int | None = None) -> dict[str, Any]:
        """The claims of a token for a subject and role, as the settings name them (``iat``/``exp`` from now)."""
        now = int(time.time())
        payload = {**self.settings["auth.claims"], self.settings["auth.subject_claim"]: subject, "iat": now,
                   "exp": now + (self.settings["auth.ttl"] if ttl is None else ttl)}
        if role is not None:
            payload[self.settings["auth.role_claim"]] = role
        return payload

    def sign(self, claims: dict[str, Any], key: str | None = None) -> str:
        """Claims signed as the settings say (``key`` signs with another secret)."""
        if self.scheme != "jwt":
            raise SettingsError(f"Signed tokens need auth.scheme = \"jwt\" in the settings (it is '{self.scheme}').")
        algorithm = self.settings["auth.algorithm"]
        if algorithm not in ALGORITHMS:
            raise SettingsError(f"auth.algorithm '{algorithm}' is not one of {', '.join(ALGORITHMS)}.")
        return jwt.encode(claims, key or self.secret(), algorithm=algorithm)

    def token(self, subject: str, role: str | None = None, ttl: int | None = None, key: str | None = None) -> str:
        """A token for a subject and role signed as the settings say (``key`` signs with another secret)."""
        if self.scheme != "jwt":
            raise SettingsError(f"Signed tokens need auth.scheme = \"jwt\" in the settings (it is '{self.scheme}').")
        if role is not None and self.roles and role not in self.roles:
            raise TestDataError(f"Unknown role '{role}': the settings (auth.roles) allow {', '.join(self.roles)}.")
        return self.sign(self.claims(subject, role, ttl), key)
