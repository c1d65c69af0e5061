"""One service's OpenAPI 3 document, checking real exchanges against it with openapi-core.

:meth:`Contract.check` takes a ``requests.Response`` (and the request it answered) and returns a
:class:`Verdict`: the documented operation it hit, and the problems of the request and of the
response, each with the place (a JSON path, a header, the status), what the document says and what
was sent or came back. Whether a problem fails the step is decided by :meth:`Verdict.violations`:

* a request the document allows must get a response the document allows;
* a request the document does not allow (a scenario that sends bad input on purpose) is recorded,
  not failed; its response must then be a refusal (4xx) that the operation documents, in the
  documented shape. A service that *accepts* such a request (2xx) breaks its document.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import OperationNotFound, PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (MissingRequestBody, MissingRequiredRequestBody,
                                                        ParameterValidationError, SecurityValidationError)
from openapi_core.validation.response.exceptions import HeaderValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from crucible import secrets
from crucible.errors import ContractError

log = logging.getLogger(__name__)

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
MAX_SHOWN = 120
FOUND_PATHS_KEPT = 4096  # (method, URL) pairs whose documented operation each validator remembers


@dataclass(frozen=True)
class Problem:
    """One way an exchange departs from the document."""

    place: str
    expected: str
    actual: str

    def render(self, sender: str) -> str:
        """One line: ``$.card.last4: the document says type string; the service sent 1881``."""
        return f"{self.place}: the document says {self.expected}; {sender} {self.actual}"


@dataclass
class Verdict:
    """What checking one exchange found."""

    service: str
    method: str
    url: str
    status: int
    operation: str | None
    request_problems: list[Problem] = field(default_factory=list)
    response_problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """The service answered with success (1xx-3xx)."""
        return self.status < 400

    @property
    def deliberate(self) -> bool:
        """The request itself is outside the document (the scenario sent bad input), and it was refused."""
        return bool(self.request_problems) and not self.accepted

    def violations(self) -> tuple[str, list[Problem]]:
        """What breaks the contract, and who broke it (``'request'`` or ``'response'``); empty when nothing does."""
        if self.request_problems and self.accepted:
            return "request", self.request_problems
        if self.operation is None:
            return "response", []
        return "response", self.response_problems

    def message(self) -> str:
        """The violation in words a QA engineer acts on: service, operation, status, each place, said vs sent."""
        side, problems = self.violations()
        operation = self.operation or f"{self.method} {urlsplit(self.url).path}"
        if side == "request":
            head = (f"Contract violation: {self.service} {operation} accepted ({self.status}) a request its "
                    f"OpenAPI document does not allow")
            lines = [problem.render("the request had") for problem in problems]
        else:
            head = (f"Contract violation: {self.service} {operation} answered {self.status}, which its OpenAPI "
                    f"document does not allow")
            lines = [problem.render("the service sent") for problem in problems]
        return head + ":\n" + "\n".join(f"  - {line}" for line in lines) + f"\n  (exchange: {self.method} {self.url})"

    def note(self) -> str:
        """For a deliberately invalid request: what was outside the document (recorded, not failed)."""
        lines = [problem.render("the request had") for problem in self.request_problems]
        return (f"{self.service} {self.operation or self.method + ' ' + urlsplit(self.url).path}: the request is "
                f"outside the OpenAPI document and was refused with {self.status} (recorded, not a violation):\n"
                + "\n".join(f"  - {line}" for line in lines))


def shown(value) -> str:
    """A JSON value for a message, cut to a readable length."""
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else json.dumps(value)
    return secrets.shortened(text, MAX_SHOWN)


def json_path(parts: Iterable) -> str:
    """A jsonschema error path as a JSON path: ``['items', 0, 'sku']`` -> ``$.items[0].sku``."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def says(error) -> str:
    """What the document says at a schema error, in a few words."""
    rule, value = error.validator, error.validator_value
    if rule == "type":
        return f"type {value}" + (" or null" if error.schema.get("nullable") else "")
    if rule == "enum":
        return "one of " + ", ".join(shown(v) for v in value)
    if rule in ("format", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        return f"{rule} {shown(value)}"
    if rule == "additionalProperties" and value is False:
        return "no fields other than " + ", ".join(sorted(error.schema.get("properties", {})))
    return f"{rule} {shown(value)}"


def schema_problems(errors: Iterable, prefix: str = "") -> list[Problem]:
    """jsonschema errors as problems; a missing required field is named by its own path."""
    problems: list[Problem] = []
    for error in errors:
        path = json_path(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    has = ", ".join(sorted(error.instance)) or "no fields"
                    problems.append(Problem(f"{prefix}{path}.{name}", "a required field",
                                            f"nothing (the object has: {has})"))
            continue
        problems.append(Problem(f"{prefix}{path}", says(error), shown(error.instance)))
    return list(dict.fromkeys(problems))


def _cause_errors(error: BaseException) -> list:
    """The jsonschema errors behind an openapi-core error, if it carries any."""
    cause = error
    while cause is not None:
        if isinstance(cause, InvalidSchemaValue):
            return list(cause.schema_errors)
        cause = cause.__cause__ or cause.__context__
    return []


class Contract:
    """A service's OpenAPI document, ready to check exchanges (openapi-core validates the document first)."""

    def __init__(self, service: str, document: dict, source: str):
        self.service = service
        self.source = source
        self.document = document
        relative = with_relative_servers(document)
        try:
            self.api, self.finder = reusing(OpenAPI.from_dict(relative))
        except Exception as exc:  # openapi-core raises its spec validator's errors, which share no base class
            raise ContractError(f"The OpenAPI document of '{service}' ({source}) is not a valid OpenAPI 3 "
                                f"document: {secrets.shortened(str(exc).splitlines()[0], 300, '')}") from None

    def operations(self) -> dict[str, list[str]]:
        """Every documented operation (``POST /payments``) with its documented response codes."""
        found: dict[str, list[str]] = {}
        for path, item in (self.document.get("paths") or {}).items():
            for method in METHODS:
                if isinstance(item, dict) and method in item:
                    found[f"{method.upper()} {path}"] = sorted(str(code) for code in item[method].get("responses", {}))
        return found

    def operation(self, method: str, url: str) -> str | None:
        """The documented operation a request hits (``POST /payments/{payment_id}/capture``), or None.

        The validators' own path finder answers (openapi-core's rules: literal paths first, then templates with
        fewer variables, the first that has the method, under any of the servers), so coverage counts the
        operation that validation judged."""
        try:
            found = self.finder.find(method.lower(), without_query(url))
        except PathError:
            return None
        return f"{method.upper()} {found.path_result.pattern}"

    def check(self, response: requests.Response) -> Verdict:
        """Check a request and its response against the document."""
        request = response.request
        verdict = Verdict(self.service, request.method, request.url, response.status_code,
                          self.operation(request.method, request.url))
        openapi_request = RequestsOpenAPIRequest(request)
        if verdict.operation is None:
            verdict.request_problems.append(self._unknown(request.method, request.url))
            return verdict
        verdict.request_problems = self._problems(self.api.iter_request_errors(openapi_request), "request")
        if verdict.request_problems and verdict.accepted:
            return verdict
        verdict.response_problems = self._problems(
            self.api.iter_response_errors(openapi_request, RequestsOpenAPIResponse(response)), "response")
        return verdict

    def _unknown(self, method: str, url: str) -> Problem:
        """The problem of a request to a path or method the document does not have."""
        path = urlsplit(url).path
        try:
            self.finder.find(method.lower(), without_query(url))
        except OperationNotFound:
            return Problem(f"{method} {path}", f"no {method} operation on this path", "that method")
        except PathError:
            pass
        return Problem(f"{method} {path}", "no such path", "that path")

    def _problems(self, errors: Iterable[Exception], side: str) -> list[Problem]:
        """openapi-core's errors for one side of the exchange, as problems."""
        problems: list[Problem] = []
        for error in errors:
            problems.extend(self._problem(error, side))
        return problems

    def _problem(self, error: Exception, side: str) -> list[Problem]:
        """One openapi-core error as problems."""
        if isinstance(error, ResponseNotFound):
            return [Problem("status", "one of " + ", ".join(map(str, error.availableresponses)),
                            str(error.http_status))]
        if isinstance(error, SecurityValidationError):
            return [Problem("Authorization", "credentials of a security scheme it names", "none that fit")]
        if isinstance(error, ParameterValidationError):
            where = f"{error.location} parameter '{error.name}'"
            schema = _cause_errors(error)
            if schema:
                return schema_problems(schema, prefix=f"{where} ")
            return [Problem(where, "a required parameter", "none") if "Missing" in type(error).__name__
                    else Problem(where, "a valid value", str(error))]
        if isinstance(error, HeaderValidationError):
            schema = _cause_errors(error)
            return schema_problems(schema, prefix=f"header '{error.name}' ") if schema else [
                Problem(f"header '{error.name}'", "a required header", "none")]
        if isinstance(error, (MissingRequestBody, MissingRequiredRequestBody)):
            return [Problem("body", "a required body", "none")]
        media = _find(error, MediaTypeNotFound)
        if media is not None:
            return [Problem("Content-Type", "one of " + ", ".join(media.availableMimetypes), media.mimetype)]
        schema = _cause_errors(error)
        if schema:
            return schema_problems(schema)
        return [Problem(side, "something else", secrets.shortened(str(error).splitlines()[0], 200, ''))]


def _find(error: BaseException, kind: type) -> BaseException | None:
    """The first exception of a kind in an error's chain of causes."""
    while error is not None:
        if isinstance(error, kind):
            return error
        error = error.__cause__ or error.__context__
    return None


class Remembering:
    """An openapi-core factory whose ``create`` makes each product once and hands it out again.

    For every parameter and body of every exchange openapi-core makes a new JSON Schema validator
    (with a deep copy of its format checker), a new caster and a new style deserializer, reading the
    document afresh each time: that was most of the time a check took. None of them keeps state
    between uses and a document does not change during a run, so one of each per schema does.
    """

    def __init__(self, factory):
        self.factory = factory
        self.made: dict[tuple, object] = {}

    def __getattr__(self, name: str):
        return getattr(self.factory, name)

    def create(self, *args, **kwargs):
        """What the factory makes for these arguments, made the first time only."""
        key = tuple(map(_key, args)) + tuple((name, _key(value)) for name, value in sorted(kwargs.items()))
        if key not in self.made:
            self.made[key] = self.factory.create(*args, **kwargs)
        return self.made[key]


def _key(value) -> object:
    """An argument of a factory as part of a key: a place in the document by its path, other objects by identity."""
    if isinstance(value, SchemaPath):
        return tuple(value.parts)
    return value if isinstance(value, (str, int, float, bool, type(None))) else id(value)


class RememberingPathFinder(APICallPathFinder):
    """openapi-core's path finder, remembering the operation each (method, URL) was found to hit."""

    def __init__(self, spec, base_url=None):
        super().__init__(spec, base_url)
        self.find = lru_cache(maxsize=FOUND_PATHS_KEPT)(super().find)  # a miss (an error) is not remembered


def reusing(api: OpenAPI) -> tuple[OpenAPI, RememberingPathFinder]:
    """The same document, with validators that reuse schema validators and found paths (same verdicts, faster),
    and the one path finder every validator of it asks (which :meth:`Contract.operation` asks too)."""
    def faster(validator_cls):
        casters = validator_cls.schema_casters_factory
        validators = Remembering(validator_cls.schema_validators_factory)

        def __init__(self, *args, **kwargs):
            validator_cls.__init__(self, *args, **kwargs)
            self.style_deserializers_factory = Remembering(self.style_deserializers_factory)

        return type(validator_cls.__name__, (validator_cls,), {
            "__init__": __init__, "schema_validators_factory": validators,
            "schema_casters_factory": Remembering(SchemaCastersFactory(validators, casters.types_caster))})
    finder = RememberingPathFinder(api.spec)
    config = Config(request_validator_cls=faster(api.request_validator_cls),
                    response_validator_cls=faster(api.response_validator_cls),
                    path_finder_cls=lambda spec, base_url=None: finder, spec_validator_cls=None)  # validated already
    return OpenAPI(api.spec, config=config), finder


def without_query(url: str) -> str:
    """A URL without its query string and fragment (the path finder matches paths only)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def with_relative_servers(document: dict) -> dict:
    """The document with its servers (its own, a path's, an operation's) reduced to their paths: the stack serves it
    on its own host and port."""
    relative = copy.copy(document)
    relative["servers"] = _relative(document.get("servers") or [{"url": "/"}])
    if isinstance(document.get("paths"), dict):
        relative["paths"] = {template: _item_relative(item) for template, item in document["paths"].items()}
    return relative


def _item_relative(item):
    """A path item whose own servers and whose operations' servers are reduced to their paths."""
    if not isinstance(item, dict):
        return item
    found = {key: ({**value, "servers": _relative(value["servers"])}
                   if key in METHODS and isinstance(value, dict) and value.get("servers") else value)
             for key, value in item.items()}
    if item.get("servers"):
        found["servers"] = _relative(item["servers"])
    return found


def _relative(servers: list) -> list[dict]:
    """Servers as their paths (variables at their defaults), each once."""
    paths = []
    for server in servers:
        url = str(server.get("url", "/"))
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(variable.get("default", "")))
        paths.append({"url": urlsplit(url).path or "/"})
    return list({s["url"]: s for s in paths}.values())
