"""What a secret looks like in text, and the one function that hides it: :func:`mask`.

Every text Crucible writes (assertion messages and step names in the Allure results, attachments,
the console, service logs, pact and load evidence) passes through :func:`mask` with the run's
secrets (:func:`use`), and the report's safety check (:mod:`crucible.report.safety`) and the
data-flow audit (:mod:`crucible.vocabulary.security.audit`) look for the same ones afterwards. A
finding names the kind of secret, never its value.

* a **card number**: 12 to 19 digits (single spaces or dashes allowed between them) that pass the Luhn
  check and are not part of a longer word, id or decimal number. A 13-, 16- or 19-digit run starting with 1 is a time
  in milliseconds, microseconds or nanoseconds since 1970, not a card;
* a **JWT**: ``eyJ...`` header, ``.eyJ...`` payload and a signature (even an empty one: ``alg: none``);
* a **bearer token**: ``Bearer`` followed by 16 or more token characters;
* **basic credentials**: ``Basic`` followed by the base64 of ``user:password``;
* a **password**: a value given to a key that names a password or secret (``"password": "..."``,
  ``db_password=...``, ``client_secret: ...``), or the password of a URL (``scheme://user:pw@host``);
  placeholders (``password``, ``PASSWORD``, ``<password>``, ``${DB_PASSWORD}``, ``***``) are not secrets;
* a **secret value**: the value of a compose variable named like a secret (``*_PASSWORD``, ``*_PASS``,
  ``*_SECRET``, ``*_TOKEN``, ``*_KEY`` ...) or listed in the setting ``secrets.variables``, a password
  inside any compose variable's URL, the settings' own credentials (``auth.*``, each service's
  ``auth``, ``broker.password``, the password of a database DSN) and ``secrets.values``. Each is also
  found in its derived forms: JSON-escaped, URL-encoded (as a whole value and inside a URL's user
  information), base64, and as the base64 of ``user:password`` that HTTP basic authentication sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit

log = logging.getLogger(__name__)

CARD = "a card number"
JWT = "a JWT"
BEARER = "a bearer token"
BASIC = "basic credentials"
PASSWORD = "a password"
SHAPE_KINDS = (CARD, JWT, BEARER, BASIC, PASSWORD)
MASK = "***"

# Not part of a longer word or id, nor of a decimal number (0.4539148803436467 is a fraction, not a card).
CARD_NUMBER = re.compile(r"(?<![\w-])(?<!\d\.)\d(?:[ -]?\d){11,18}(?![\w-])(?!\.\d)")
JWT_TOKEN = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
BEARER_TOKEN = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)")
BASIC_CREDENTIALS = re.compile(r"(?i)\bbasic\s+([A-Za-z0-9+/_-]{4,}={0,2})(?![A-Za-z0-9+/=_-])")
# A key naming a password or secret (``db_password``, ``"client_secret"``), then ``:`` or ``=`` and its value.
PASSWORD_KEY = re.compile(r"(?i)(?<![a-z])(?:password|passwd|passphrase|secret)(?![a-z])")
PASSWORD_VALUE = re.compile(r"[\w.-]*[\"']?\s*[:=]\s*(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|\$\{[^}\s]*\}|[^\s,;&\"'`{}\[\]<>]+)")
URL_PASSWORD = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:(?P<value>[^@\s/\"']+)@")
# Values that hide nothing: empty, masked, JSON literals, and placeholders (help texts, examples, templates,
# and names in capitals such as PASSWORD or SERVICE.VARIABLE, as help texts write what the reader fills in).
NOT_A_SECRET = re.compile(
    r"(?i)^(|\*+|%2a%2a%2a|null|none|true|false|undefined|<[^>]*>|\$\{[^}]*\}|\$[a-z_][a-z0-9_]*|\{[^}]*\}|"
    r"\[[^\]]*\]|\.\.\.|…|x+|(?:your|my|the|some|a)?[-_]?(?:password|passwd|pass|pwd|pw|secret|token|"
    r"api[-_]?key|passphrase)s?|(?-i:[A-Z][A-Z0-9]*(?:[._:][A-Z][A-Z0-9]*)*))$")
# Compose variables whose values are secrets.
SECRET_VARIABLE = re.compile(
    r"(?i)(^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|SECRET|TOKEN|CREDENTIALS?|KEY)$")
# A password variable and the user variable beside it: RABBITMQ_DEFAULT_PASS and RABBITMQ_DEFAULT_USER.
PASSWORD_VARIABLE = re.compile(r"(?i)^(?P<prefix>.*?)(?P<root>ROOT_)?(?:PASSWORD|PASSWD|PASS)$")
USER_SUFFIXES = ("USER", "USERNAME", "LOGIN")
# The settings that hold credentials: (user key, secret key); a user key of None is a secret alone.
SETTINGS_SECRETS = (("auth.username", "auth.password"), (None, "auth.token"), (None, "auth.secret"),
                    ("broker.user", "broker.password"))
SERVICE_AUTH_SECRETS = (("username", "password"), (None, "token"), (None, "value"))
# The characters a URL's user information keeps as they are (RFC 3986 sub-delims).
USERINFO_SAFE = "!$&'()*+,;=~"
MIN_SECRET_LENGTH = 6
JSON_DEPTH = 3


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


def is_placeholder(value: str) -> bool:
    """True for a value that hides nothing: empty, masked, a template or a placeholder such as ``password``."""
    return bool(NOT_A_SECRET.match(value.strip()))


def is_basic_credentials(encoded: str) -> bool:
    """True if text is the base64 of ``user:password`` (what ``Authorization: Basic`` carries)."""
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_" if "-" in encoded
                                   or "_" in encoded else None, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, colon, password = decoded.partition(":")
    return bool(colon and password and decoded.isprintable() and not is_placeholder(password))


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
    """Every secret recognisable by its shape alone (no known values): cards, JWTs, tokens, credentials, passwords."""
    spans = [Span(m.start(), m.end(), CARD) for m in CARD_NUMBER.finditer(text) if is_card_number(m.group())]
    spans += [Span(m.start(), m.end(), JWT) for m in JWT_TOKEN.finditer(text)]
    spans += [Span(m.start(1), m.end(1), BEARER) for m in BEARER_TOKEN.finditer(text)
              if not m.group(1).startswith("eyJ") and set(m.group(1)) != {"*"}]
    spans += [Span(m.start(1), m.end(1), BASIC) for m in BASIC_CREDENTIALS.finditer(text)
              if is_basic_credentials(m.group(1))]
    for key in PASSWORD_KEY.finditer(text):
        match = PASSWORD_VALUE.match(text, key.end())
        if match is None:
            continue
        value = _unquoted(match.group("value"))
        if not is_placeholder(value) and not JWT_TOKEN.fullmatch(value):
            offset = match.start("value") + (1 if value != match.group("value") else 0)
            spans.append(Span(offset, offset + len(value), PASSWORD))
    spans += [Span(m.start("value"), m.end("value"), PASSWORD) for m in URL_PASSWORD.finditer(text)
              if not is_placeholder(unquote(m.group("value")))]
    return spans


def _base64_forms(data: str) -> set[str]:
    """The base64 of a text, standard and URL-safe, with and without its padding."""
    raw = data.encode("utf-8")
    forms = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return forms | {form.rstrip("=") for form in forms}


def derived_forms(value: str) -> dict[str, str]:
    """A secret value in every form a text may carry it: form -> how it was written (``""`` for as it is)."""
    forms = {value: ""}
    for ascii_only in (False, True):
        escaped = value
        for _ in range(JSON_DEPTH):  # JSON inside a JSON string (an echoed request body) is escaped again
            escaped = json.dumps(escaped, ensure_ascii=ascii_only)[1:-1]
            forms.setdefault(escaped, "JSON-escaped")
    for form in (quote(value, safe=""), quote(value, safe=USERINFO_SAFE), quote_plus(value)):
        forms.setdefault(form, "URL-encoded")
    for form in _base64_forms(value):
        forms.setdefault(form, "base64")
    return forms


@dataclass
class Secrets:
    """The secrets of one project: every shape above, plus the stack's own secret values (label -> value) and
    credentials (label -> (user, password)) in all their derived forms."""

    values: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        forms: dict[str, str] = {}
        for label, value in self.values.items():
            for form, how in derived_forms(value).items():
                forms.setdefault(form, f"the value of {label}" + (f" ({how})" if how else ""))
        for label, (user, password) in self.credentials.items():
            for form in _base64_forms(f"{user}:{password}"):
                forms.setdefault(form, f"the basic credentials of {label}")
        # longest first, so a form inside a longer one (a value inside its URL-encoding) is hidden with it
        self.forms = sorted(forms.items(), key=lambda item: -len(item[0]))

    def spans(self, text: str) -> list[Span]:
        """Every secret in text, by shape and by known value in each derived form, in order of position."""
        spans = shaped(text)
        for form, label in self.forms:
            start = text.find(form)
            while start >= 0:
                spans.append(Span(start, start + len(form), label))
                start = text.find(form, start + 1)
        # at one place, a known value's label (which setting or variable) before a shape's kind
        return sorted(spans, key=lambda span: (span.start, -span.end, span.kind in SHAPE_KINDS))

    def outermost(self, text: str) -> list[Span]:
        """The spans of :meth:`spans` that are not inside an earlier one (a value inside its padded base64)."""
        kept, position = [], 0
        for span in self.spans(text):
            if span.start >= position:
                kept.append(span)
                position = span.end
        return kept

    def kinds(self, text: str) -> Counter:
        """How many secrets of each kind text holds (no values)."""
        return Counter(span.kind for span in self.outermost(text))

    def redact(self, text: str) -> str:
        """Text with every secret hidden: card numbers down to their last four digits, everything else ``***``."""
        out, position = [], 0
        for span in self.outermost(text):
            secret = text[span.start:span.end]
            out += [text[position:span.start], mask_card(secret) if span.kind == CARD else MASK]
            position = span.end
        return "".join(out) + text[position:]


_active: Secrets | None = None
_SHAPES = Secrets()


def use(found: Secrets) -> Secrets:
    """Make ``found`` the secrets every text of this process is masked with (see :func:`mask`); return it."""
    global _active
    _active = found
    return found


def active() -> Secrets:
    """The secrets this process masks with: those given to :func:`use`, else every shape alone."""
    return _active or _SHAPES


def mask(text: str) -> str:
    """The one masking function: text with every secret of the run hidden, e.g. ``mask("Bearer abc...")``."""
    return active().redact(text) if text else text


def shortened(text: str, limit: int, more: str = "...") -> str:
    """Text masked, then cut to ``limit`` characters (masking first: a cut secret would no longer be found)."""
    text = mask(text)
    return text if len(text) <= limit else text[:max(limit - len(more), 0)] + more


def mask_value(value: Any) -> Any:
    """Every string inside a JSON-like value (keys too) masked; other values as they are."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask_value(key): mask_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(item) for item in value)
    return value


def describe(kinds: Counter) -> str:
    """Kinds of secrets in words: ``a JWT (2 times), a card number``."""
    return ", ".join(kind if count == 1 else f"{kind} ({count} times)" for kind, count in sorted(kinds.items()))


def is_secret_variable(name: str, extra: Iterable[str] = ()) -> bool:
    """True if a compose variable's value is a secret, as its name says or the setting secrets.variables lists."""
    return bool(SECRET_VARIABLE.search(name)) or name in set(extra)


def variable_secrets(service: str, environment: dict[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """The secret values of one service's compose environment: label -> value."""
    found = {}
    for name, value in environment.items():
        value = str(value or "")
        if is_secret_variable(name, extra):
            found[f"{name} of {service}"] = value
        for match in URL_PASSWORD.finditer(value):
            found[f"the password in {name} of {service}"] = unquote(match.group("value"))
    return found


def variable_credentials(service: str, environment: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The user and password pairs of one service's environment (``POSTGRES_USER``/``POSTGRES_PASSWORD``, a URL's
    ``user:password``): label -> (user, password)."""
    found = {}
    for name, value in environment.items():
        value = str(value or "")
        match = PASSWORD_VARIABLE.match(name)
        if match and value:
            users = [environment.get(match["prefix"] + suffix) for suffix in USER_SUFFIXES]
            user = "root" if match["root"] else next((str(u) for u in users if u), None)
            if user:
                found[f"{name} of {service}"] = (user, value)
        for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"']+", value):
            parts = urlsplit(url)
            if parts.username and parts.password:
                found[f"the user and password in {name} of {service}"] = (unquote(parts.username),
                                                                         unquote(parts.password))
    return found


def _too_plain(value: str, ordinary: set[str]) -> str | None:
    """Why a secret value cannot be looked for without false alarms, or None when it can."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"it is shorter than {MIN_SECRET_LENGTH} characters"
    if value in ordinary:
        return "it is also the value of a variable that is not secret (e.g. a user name) or a name of the stack"
    if is_placeholder(value):
        return "it reads like a placeholder (e.g. 'password'), which help texts and examples show too"
    return None


def settings_secrets(settings) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The secret values and credentials the settings hold: label -> value, label -> (user, password)."""
    values: dict[str, str] = {}
    credentials: dict[str, tuple[str, str]] = {}

    def add(user: str | None, secret: str | None, label: str) -> None:
        if secret:
            values[label] = secret
            if user:
                credentials[label] = (user, secret)

    for user_key, key in SETTINGS_SECRETS:
        add(settings[user_key] if user_key else None, settings[key], f"the setting {key}")
    for name, table in sorted((settings["services"] or {}).items()):
        auth = (table or {}).get("auth") or {}
        for user_key, key in SERVICE_AUTH_SECRETS:
            add(auth.get(user_key) if user_key else None, auth.get(key), f"the setting services.{name}.auth.{key}")
    for name, table in sorted((settings["databases"] or {}).items()):
        parts = urlsplit(str((table or {}).get("dsn") or ""))
        add(unquote(parts.username or "") or None, unquote(parts.password or "") or None,
            f"the password in the setting databases.{name}.dsn")
    for index, value in enumerate(settings["secrets.values"] or ()):
        add(None, str(value), f"the setting secrets.values[{index}]")
    return values, credentials


def of_settings(settings) -> Secrets:
    """The secrets of the settings alone (when the compose file cannot be read), every shape included."""
    values, credentials = settings_secrets(settings)
    return _checked({value: [label] for label, value in values.items()}, credentials, set())


def of_project(project, settings=None) -> Secrets:
    """The secrets of a compose project (and of the settings' own credentials), one label per value.

    A value too short or too plain to look for (shorter than 6 characters, the same as a user name or a
    service name, or a placeholder) is left out with a warning saying which variable to make stronger; its
    basic credentials (the base64 of user:password) are still looked for.
    """
    labelled: dict[str, list[str]] = {}
    credentials: dict[str, tuple[str, str]] = {}
    ordinary = {project.name, *project.services}
    extra = (settings["secrets.variables"] or ()) if settings is not None else ()
    for name, service in project.services.items():
        secret = variable_secrets(name, service.environment, extra)
        for label, value in secret.items():
            labelled.setdefault(value, []).append(label)
        credentials.update(variable_credentials(name, service.environment))
        ordinary |= {str(v) for key, v in service.environment.items()
                     if not is_secret_variable(key, extra) and str(v or "") not in secret.values()}
    if settings is not None:
        values, configured = settings_secrets(settings)
        for label, value in values.items():
            labelled.setdefault(value, []).append(label)
        credentials.update(configured)
    return _checked(labelled, credentials, ordinary)


def _checked(labelled: dict[str, list[str]], credentials: dict[str, tuple[str, str]], ordinary: set[str]) -> Secrets:
    """Secrets of the values that can be looked for; a warning for each that cannot."""
    values = {}
    for value, labels in labelled.items():
        why = _too_plain(value, ordinary) if value else "it is empty"
        if why is None:
            values[_label(labels)] = value
        elif value:
            log.warning("Not looking for the value of %s in reports and logs: %s. Give it a stronger value.",
                        _label(labels), why)
    return Secrets(values, credentials)


def _label(labels: list[str]) -> str:
    """One name for a value several variables share: ``JWT_SECRET of fraud, orders`` (one variable, many
    services), else each label."""
    variables = {label.rpartition(" of ")[0] for label in labels}
    if len(variables) == 1 and all(" of " in label for label in labels):
        return f"{variables.pop()} of {', '.join(sorted(label.rpartition(' of ')[2] for label in labels))}"
    return " / ".join(sorted(labels))
