"""What a secret looks like in text, and how to hide it: card numbers, JWTs, bearer tokens, passwords, and
the stack's own secret values.

Shared by the HTTP recorder and every other attachment (they hide what they find), the report's
safety check (:mod:`crucible.report.safety`) and the data-flow audit
(:mod:`crucible.vocabulary.security.audit`). A finding names the kind of secret, never its value.

* a **card number**: 12 to 19 digits (single spaces or dashes allowed between them) that pass the Luhn
  check and are not part of a longer word, id or decimal number. A 13-, 16- or 19-digit run starting with 1 is a time
  in milliseconds, microseconds or nanoseconds since 1970, not a card;
* a **JWT**: ``eyJ...`` header, ``.eyJ...`` payload and a signature (even an empty one: ``alg: none``);
* a **bearer token**: ``Bearer`` followed by 16 or more token characters;
* a **password**: a value given to a key that names a password or secret (``"password": "..."``,
  ``db_password=...``, ``client_secret: ...``), or the password of a URL (``scheme://user:pw@host``);
* a **secret value**: the value of a compose variable named like a secret (``*_PASSWORD``, ``*_PASS``,
  ``*_SECRET``, ``*_TOKEN``, ``*_API_KEY`` ...), a password inside any compose variable's URL, and the
  settings' own credentials (``auth.secret``, ``auth.password``, ``auth.token``, ``broker.password``).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote

log = logging.getLogger(__name__)

CARD = "a card number"
JWT = "a JWT"
BEARER = "a bearer token"
PASSWORD = "a password"
MASK = "***"

# Not part of a longer word or id, nor of a decimal number (0.4539148803436467 is a fraction, not a card).
CARD_NUMBER = re.compile(r"(?<![\w-])(?<!\d\.)\d(?:[ -]?\d){11,18}(?![\w-])(?!\.\d)")
JWT_TOKEN = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
BEARER_TOKEN = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)")
# A key naming a password or secret (``db_password``, ``"client_secret"``), then ``:`` or ``=`` and its value.
PASSWORD_KEY = re.compile(r"(?i)(?<![a-z])(?:password|passwd|passphrase|secret)(?![a-z])")
PASSWORD_VALUE = re.compile(r"[\w.-]*[\"']?\s*[:=]\s*(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s,;&\"'{}\[\]<>]+)")
URL_PASSWORD = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:(?P<value>[^@\s/\"']+)@")
# Values that hide nothing: empty, masked, placeholders, JSON literals.
NOT_A_SECRET = re.compile(r"(?i)^(|\*+|%2a%2a%2a|null|none|true|false|undefined|<[^>]*>|\$\{[^}]*\}|\[[^\]]*\])$")
# Compose variables whose values are secrets.
SECRET_VARIABLE = re.compile(
    r"(?i)(^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|SECRET|TOKEN|CREDENTIALS?|(API|ACCESS|SECRET|PRIVATE|SIGNING|"
    r"ENCRYPTION|MASTER)_?KEY)$")
SETTINGS_SECRETS = ("auth.secret", "auth.password", "auth.token", "broker.password")
MIN_SECRET_LENGTH = 6


def luhn_valid(digits: str) -> bool:
    """True if a string of digits passes the Luhn check, e.g. ``luhn_valid("4111111111111111")``."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    """True if text (digits, spaces, dashes) is a card number: 12-19 Luhn-valid digits, not a timestamp."""
    digits = re.sub(r"[ -]", "", text)
    if not (digits.isdigit() and 12 <= len(digits) <= 19):
        return False
    if digits[0] == "1" and len(digits) in (13, 16, 19):
        return False  # ms, µs or ns since 1970 (2001-2286)
    return luhn_valid(digits)


def mask_card(text: str) -> str:
    """A card number shown by its last four digits only: ``************1111``."""
    digits = re.sub(r"\D", "", text)
    return "*" * (len(digits) - 4) + digits[-4:]


def _unquoted(value: str) -> str:
    """A matched value without the quotes around it."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value


@dataclass(frozen=True)
class Span:
    """Where one secret sits in a text, and its kind."""

    start: int
    end: int
    kind: str


def shaped(text: str) -> list[Span]:
    """Every secret recognisable by its shape alone (no known values): cards, JWTs, bearer tokens, passwords."""
    spans = [Span(m.start(), m.end(), CARD) for m in CARD_NUMBER.finditer(text) if is_card_number(m.group())]
    spans += [Span(m.start(), m.end(), JWT) for m in JWT_TOKEN.finditer(text)]
    spans += [Span(m.start(1), m.end(1), BEARER) for m in BEARER_TOKEN.finditer(text)
              if not m.group(1).startswith("eyJ") and set(m.group(1)) != {"*"}]
    for key in PASSWORD_KEY.finditer(text):
        match = PASSWORD_VALUE.match(text, key.end())
        if match is None:
            continue
        value = _unquoted(match.group("value"))
        if not NOT_A_SECRET.match(value.strip()) and not JWT_TOKEN.fullmatch(value):
            offset = match.start("value") + (1 if value != match.group("value") else 0)
            spans.append(Span(offset, offset + len(value), PASSWORD))
    spans += [Span(m.start("value"), m.end("value"), PASSWORD) for m in URL_PASSWORD.finditer(text)
              if not NOT_A_SECRET.match(unquote(m.group("value")))]
    return spans


@dataclass
class Secrets:
    """The secrets of one project: every shape above plus the stack's own secret values (label -> value)."""

    values: dict[str, str] = field(default_factory=dict)

    def spans(self, text: str) -> list[Span]:
        """Every secret in text, by shape and by known value (also JSON-escaped), in order of position."""
        spans = shaped(text)
        for label, value in self.values.items():
            for form in {value, json.dumps(value)[1:-1]}:
                start = text.find(form)
                while start >= 0:
                    spans.append(Span(start, start + len(form), f"the value of {label}"))
                    start = text.find(form, start + 1)
        return sorted(spans, key=lambda span: (span.start, -span.end))

    def kinds(self, text: str) -> Counter:
        """How many secrets of each kind text holds (no values)."""
        return Counter(span.kind for span in self.spans(text))

    def redact(self, text: str) -> str:
        """Text with every secret hidden: card numbers down to their last four digits, everything else ``***``."""
        out, position = [], 0
        for span in self.spans(text):
            if span.start < position:  # inside one already hidden
                continue
            secret = text[span.start:span.end]
            out += [text[position:span.start], mask_card(secret) if span.kind == CARD else MASK]
            position = span.end
        return "".join(out) + text[position:]


def describe(kinds: Counter) -> str:
    """Kinds of secrets in words: ``a JWT (2 times), a card number``."""
    return ", ".join(kind if count == 1 else f"{kind} ({count} times)" for kind, count in sorted(kinds.items()))


def variable_secrets(service: str, environment: dict[str, str]) -> dict[str, str]:
    """The secret values of one service's compose environment: label -> value."""
    found = {}
    for name, value in environment.items():
        value = str(value or "")
        if SECRET_VARIABLE.search(name):
            found[f"{name} of {service}"] = value
        for match in URL_PASSWORD.finditer(value):
            found[f"the password in {name} of {service}"] = unquote(match.group("value"))
    return found


def _too_plain(value: str, ordinary: set[str]) -> str | None:
    """Why a secret value cannot be looked for without false alarms, or None when it can."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"it is shorter than {MIN_SECRET_LENGTH} characters"
    if value in ordinary:
        return "it is also the value of a variable that is not secret (e.g. a user name) or a name of the stack"
    return None


def of_project(project, settings=None) -> Secrets:
    """The secrets of a compose project (and of the settings' own credentials), one label per value.

    A value too short or too plain to look for (shorter than 6 characters, or the same as a user name or
    a service name) is left out with a warning saying which variable to make stronger.
    """
    labelled: dict[str, list[str]] = {}
    ordinary = {project.name, *project.services}
    for name, service in project.services.items():
        secret = variable_secrets(name, service.environment)
        for label, value in secret.items():
            labelled.setdefault(value, []).append(label)
        ordinary |= {str(v) for key, v in service.environment.items()
                     if not SECRET_VARIABLE.search(key) and str(v or "") not in secret.values()}
    for key in SETTINGS_SECRETS if settings is not None else ():
        if settings[key]:
            labelled.setdefault(settings[key], []).append(f"the setting {key}")
    values = {}
    for value, labels in labelled.items():
        why = _too_plain(value, ordinary) if value else "it is empty"
        if why is None:
            values[_label(labels)] = value
        elif value:
            log.warning("Not looking for the value of %s in reports and logs: %s. Give it a stronger value.",
                        _label(labels), why)
    return Secrets(values)


def _label(labels: list[str]) -> str:
    """One name for a value several variables share: ``JWT_SECRET of fraud, orders`` (one variable, many
    services), else each label."""
    variables = {label.rpartition(" of ")[0] for label in labels}
    if len(variables) == 1 and all(" of " in label for label in labels):
        return f"{variables.pop()} of {', '.join(sorted(label.rpartition(' of ')[2] for label in labels))}"
    return " / ".join(sorted(labels))
