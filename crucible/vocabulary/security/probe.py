"""What the security checks need of a run: the stack, its contracts, unrecorded clients and credentials.

The checks send hundreds of requests; each is described in the table they attach to the report
rather than attached one by one. Every request still carries the scenario's correlation id
(``X-Request-ID: <id>-s<n>``), so the services' log lines can be found. Credentials are signed as
the settings' ``[auth]`` say (``auth.scheme = "jwt"``), for every role a contract names, and in the
broken forms a service must refuse: no token, an expired one, one signed with another key, one with
``alg: none``, and one whose claims were changed after signing.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets as random_secrets
from dataclasses import dataclass, field

import jwt

from crucible.errors import SettingsError
from crucible.vocabulary.auth import Auth
from crucible.vocabulary.http import HttpClient
from crucible.vocabulary.security import contract
from crucible.vocabulary.security.contract import Contract

NO_TOKEN = "no token"
EXPIRED = "expired token"
OTHER_KEY = "token signed with another key"
ALG_NONE = "token with alg none"
TAMPERED = "token with a tampered claim"
DEFECTS = (NO_TOKEN, EXPIRED, OTHER_KEY, ALG_NONE, TAMPERED)


@dataclass(frozen=True)
class Credential:
    """What one request carries to prove who sends it, named for a person."""

    label: str
    headers: dict = field(default_factory=dict, compare=False, hash=False)


def _b64(data: bytes) -> str:
    """base64url without padding, as JWTs encode their parts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tamper(token: str, claims: dict) -> str:
    """A token whose payload got ``claims`` after it was signed: header and signature unchanged."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return ".".join((header, _b64(json.dumps({**decoded, **claims}, separators=(",", ":")).encode()), signature))


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Probe:
    """One scenario's means to call the stack's services the way the security checks do."""

    stack: object
    settings: object
    auth: Auth
    correlation_id: str
    uid: str
    documents: dict = field(default_factory=dict)
    contracts: dict = field(default_factory=dict)  # the security view of each document, parsed once

    @classmethod
    def from_context(cls, context) -> "Probe":
        """The scenario's probe, over the OpenAPI documents the run read when the stack came up."""
        probe = getattr(context, "security_probe", None)
        if probe is None:
            documents = context.contracts.contracts if getattr(context, "contracts", None) is not None else {}
            probe = cls(context.stack, context.settings, context.auth, context.correlation_id, context.uid, documents)
            context.security_probe = probe
        return probe

    def __post_init__(self):
        self._counter = itertools.count(1)

    def contract(self, service: str) -> Contract:
        """The service's contract, read once per run."""
        return contract.load(self.stack, self.documents, self.settings, service, self.contracts)

    def client(self, service: str) -> HttpClient:
        """An unrecorded client of the service; each request has its own X-Request-ID under the scenario's."""
        url = self.stack.http_url(service, self.settings.service(service).get("port"))
        return HttpClient(service, url, headers=lambda: {"X-Request-ID": f"{self.correlation_id}-s{next(self._counter)}"},
                          timeout=self.settings["timeouts.http"])

    def _signing(self) -> None:
        """A SettingsError unless the settings sign tokens."""
        if self.auth.scheme != "jwt":
            raise SettingsError(f"The security checks sign tokens for each role: set auth.scheme = \"jwt\" and its "
                                f"secret in the settings (auth.scheme is '{self.auth.scheme}').")

    def subject(self, role: str) -> str:
        """The subject of this scenario's tokens for a role."""
        return f"probe-{role}-{self.uid}"

    def as_role(self, role: str) -> Credential:
        """A valid token for any role a contract names (also roles the settings do not list, e.g. service)."""
        self._signing()
        return Credential(role, bearer(self.auth.sign(self.auth.claims(self.subject(role), role))))

    def defect(self, kind: str, admitted: str, refused: str | None) -> Credential:
        """A credential a service must refuse with 401, built on a role the operation admits (``admitted``).

        The tampered token is signed for ``refused`` (a role the operation refuses; else ``admitted``) and
        then claims ``admitted`` (or, when every role is admitted, another subject).
        """
        self._signing()
        claims = self.auth.claims(self.subject(admitted), admitted)
        if kind == NO_TOKEN:
            return Credential(kind)
        if kind == EXPIRED:
            return Credential(kind, bearer(self.auth.sign(self.auth.claims(self.subject(admitted), admitted, ttl=-120))))
        if kind == OTHER_KEY:
            return Credential(kind, bearer(self.auth.sign(claims, key=random_secrets.token_hex(32))))
        if kind == ALG_NONE:
            return Credential(kind, bearer(jwt.encode(claims, None, algorithm="none")))
        if kind == TAMPERED:
            role_claim, subject_claim = self.settings["auth.role_claim"], self.settings["auth.subject_claim"]
            if refused is not None:
                signed = self.auth.sign(self.auth.claims(self.subject(refused), refused))
                return Credential(kind, bearer(tamper(signed, {role_claim: admitted})))
            return Credential(kind, bearer(tamper(self.auth.sign(claims), {subject_claim: f"someone-else-{self.uid}"})))
        raise ValueError(f"unknown token defect {kind!r}")
