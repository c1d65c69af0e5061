"""A service's contract as the security checks read it: the operations of its OpenAPI document, the roles
each admits, and the string fields of each request.

The documents are the run's own, read once when the stack comes up from where the settings say
(``[services.orders] openapi = "/openapi.json"``, a path the service serves, or a JSON/YAML file; see
:mod:`crucible.vocabulary.contracts.documents`). Each operation names the roles that may call it in
``x-roles`` (``security.roles_field`` names another extension); an operation with ``security: []`` is
public. This reads what security needs, not a validator: ``$ref`` inside the document, ``allOf`` (every
branch's properties and required ones), ``anyOf``/``oneOf`` (the first choice), objects, arrays and the usual types.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from crucible.errors import ContractError, CrucibleError, ServiceNotFound, TestDataError
from crucible.settings import resolve
from crucible.vocabulary import preflight
from crucible.vocabulary.contracts import documents as served

log = logging.getLogger(__name__)

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAMETER = re.compile(r"\{([^}]+)\}")
_ESCAPED = re.compile(r"\{\{([^{}]+)\}\}")


@dataclass(frozen=True)
class Field:
    """One string input of an operation: in the ``path``, the ``query`` or the JSON ``body`` (a path like
    ``items[0].sku``), with the JSON type its schema gives."""

    where: str
    name: str
    kind: str = "string"

    def __str__(self) -> str:
        return f"{self.where} {self.name}"


@dataclass
class Operation:
    """One documented operation: method, path template, the roles that may call it (None: public)."""

    method: str
    path: str
    roles: tuple[str, ...] | None
    parameters: list[dict] = field(default_factory=list)
    body: dict | None = None
    operation_id: str | None = None

    @property
    def name(self) -> str:
        """How a feature names it: ``POST /orders/{order_id}/returns``."""
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        """True for an operation that needs no token (``security: []``)."""
        return self.roles is None

    def path_parameters(self) -> list[str]:
        """The names of the path's parameters, in order."""
        return _PARAMETER.findall(self.path)

    def headers(self, value: str) -> dict[str, str]:
        """Every required header parameter (e.g. an Idempotency-Key), given ``value``."""
        return {p["name"]: value for p in self.parameters if p.get("in") == "header" and p.get("required")}

    def fields(self) -> list[Field]:
        """Every string input: path parameters, string query parameters and the body's fields (any type)."""
        found = [Field("path", name) for name in self.path_parameters()]
        found += [Field("query", p["name"]) for p in self.parameters
                  if p.get("in") == "query" and (p.get("schema") or {}).get("type", "string") == "string"]
        if self.body is not None:
            found += [Field("body", name, kind) for name, kind in _leaves(self.body, "")]
        return found


def _leaves(schema: dict, prefix: str) -> list[tuple[str, str]]:
    """(JSON path, type) of every leaf field of a schema; arrays contribute their first item."""
    kind = schema.get("type") or ("object" if "properties" in schema else "string")
    if kind == "object":
        return [leaf for name, sub in (schema.get("properties") or {}).items()
                for leaf in _leaves(sub, f"{prefix}.{name}" if prefix else name)]
    if kind == "array":
        return _leaves(schema.get("items") or {}, f"{prefix}[0]")
    return [(prefix, kind)]


def example(schema: dict, text: str, field: str | None = None) -> Any:
    """A value the schema accepts in shape, with the required properties only, plus those on the way to ``field``
    (a body field's path, ``items[0].sku``): strings are ``text`` (enums their first value, examples as given),
    integers their minimum or 1, arrays one item."""
    return _example(schema, text, re.findall(r"[^.\[\]]+|\[\d+\]", field or ""))


def _example(schema: dict, text: str, path: list[str]) -> Any:
    """:func:`example` along the remaining path segments."""
    if "example" in schema and not path:
        return schema["example"]
    if schema.get("enum") and not path:
        return next((value for value in schema["enum"] if value is not None), schema["enum"][0])
    kind = schema.get("type") or ("object" if "properties" in schema else "string")
    if kind == "object":
        required = set(schema.get("required") or ())
        wanted = path[0] if path else None
        return {name: _example(sub, text, path[1:] if name == wanted else [])
                for name, sub in (schema.get("properties") or {}).items() if name in required or name == wanted}
    if kind == "array":
        return [_example(schema.get("items") or {}, text, path[1:] if path and path[0].startswith("[") else [])]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return text


def _resolve(node: Any, document: dict, seen: frozenset = frozenset()) -> Any:
    """The node with every local ``$ref`` replaced (cycles cut) and combinations reduced to one schema."""
    if isinstance(node, list):
        return [_resolve(item, document, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in seen:
            return {}
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        return _resolve(target, document, seen | {ref})
    if node.get("allOf"):
        own = {key: value for key, value in node.items() if key != "allOf"}
        return _merged([*_resolve(node["allOf"], document, seen), _resolve(own, document, seen)])
    for choice in ("oneOf", "anyOf"):
        if node.get(choice):
            return _resolve(node[choice][0], document, seen)
    return {key: _resolve(value, document, seen) for key, value in node.items()}



def _merged(parts: list) -> dict:
    """The schemas of an ``allOf`` (and the keywords beside it) as one, as a value must satisfy all of them: every
    branch's properties (one that several branches describe merged the same way) and every branch's ``required``;
    any other keyword from the first branch that has it."""
    merged: dict = {}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                properties = merged.setdefault("properties", {})
                for name, sub in value.items():
                    properties[name] = _merged([properties[name], sub]) if name in properties else sub
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    if "properties" in merged or "required" in merged:
        merged.setdefault("type", "object")
    return merged

@dataclass
class Contract:
    """The operations of one service's OpenAPI document."""

    service: str
    source: str
    operations: list[Operation]

    def roles(self) -> list[str]:
        """Every role any operation names, in the order they first appear."""
        return list(dict.fromkeys(role for op in self.operations for role in op.roles or ()))

    def operation(self, name: str) -> Operation:
        """The operation a feature names (``POST /orders``, or its operationId); a TestDataError naming the
        closest ones when the document has no such operation."""
        method, _, path = name.strip().partition(" ")
        wanted = f"{method.upper()} {path.strip()}"
        for op in self.operations:
            if op.name == wanted or op.operation_id == name.strip():
                return op
        names = [op.name for op in self.operations]
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
        raise TestDataError(f"The '{self.service}' contract ({self.source}) has no operation '{name}'"
                            + (f"; did you mean {', '.join(close)}?" if close else ".")
                            + f" It documents: {', '.join(names)}.")

    def check_role(self, role: str) -> None:
        """A TestDataError when no operation of the contract names ``role``."""
        if role not in self.roles():
            raise TestDataError(f"No operation of the '{self.service}' contract ({self.source}) names the role "
                                f"'{role}'; its roles are: {', '.join(self.roles()) or 'none'}.")


def parse(service: str, document: Any, source: str, roles_field: str = "x-roles") -> Contract:
    """A Contract from an OpenAPI document (a TestDataError when it is not one)."""
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise TestDataError(f"{source} is not an OpenAPI document (no 'paths'): the security checks of "
                            f"'{service}' read each operation's roles from it.")
    top_security = document.get("security")
    operations = []
    for path, item in document["paths"].items():
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op = _resolve(op, document)
            roles = op.get(roles_field)
            public = op.get("security", top_security) == [] and roles is None
            content = ((op.get("requestBody") or {}).get("content") or {})
            schema = (content.get("application/json") or next(iter(content.values()), {}) or {}).get("schema")
            operations.append(Operation(
                method=method.upper(), path=path, roles=None if public else tuple(roles or ()),
                parameters=[*_resolve(shared, document), *(op.get("parameters") or [])],
                body=schema, operation_id=op.get("operationId")))
    return Contract(service, source, operations)


def load(stack, documents: dict, settings, service: str, cache: dict | None = None) -> Contract:
    """The security view of a service's contract (``documents``: the run's OpenAPI documents by service, as
    :mod:`crucible.vocabulary.contracts.documents` read them once). A ServiceNotFound for a service the stack
    does not have, a ContractError for one without a document, before anything is sent."""
    if service not in stack.project.services:
        raise ServiceNotFound(f"The stack has no service '{service}' (services: "
                              f"{', '.join(sorted(stack.project.services))}).")
    if service not in documents:
        raise ContractError(f"'{service}' has no OpenAPI document, and the security checks read each operation's "
                            f"roles from it: set [services.{service}] openapi = \"/openapi.json\" (a path it serves) or "
                            f"a file in the settings (services with one: {', '.join(sorted(documents)) or 'none'}).")
    if cache is not None and service in cache:
        return cache[service]
    found = parse(service, documents[service].document, documents[service].source, settings["security.roles_field"])
    log.debug("%s: %d operations in %s", service, len(found.operations), found.source)
    if cache is not None:
        cache[service] = found
    return found


def vet(scope: preflight.Scope, service: str, operation: str | None = None, role: str | None = None, **_) -> None:
    """The pre-flight of a security step: the compose file has the service and the settings give it an OpenAPI
    document, which has the operation and names the role. Before the stack starts only a document kept in a
    file can be read; each scenario's own pre-flight also reads the ones the services serve."""
    preflight.service(scope, service)
    if scope.project is None or "{" in service:
        return
    source = served.source_of(scope.settings, service)
    if not source:
        raise TestDataError(f"the security checks read each operation's roles from '{service}''s OpenAPI document, "
                            f"and the settings give it none: set {scope.settings.where(f'services.{service}.openapi')} to "
                            f"\"/openapi.json\" (a path it serves) or a JSON/YAML file")
    if operation is None and role is None:
        return
    found = _document_of(scope, service, source)
    if found is None:
        return
    if operation is not None and not _PARAMETER.search(_ESCAPED.sub("", operation)):
        found.operation(_ESCAPED.sub(r"{\1}", operation))
    if role is not None and "{" not in role:
        found.check_role(role)


def _document_of(scope: preflight.Scope, service: str, source: str) -> Contract | None:
    """The security view of the service's document if the pre-flight can see it yet (None: not yet, or unreadable:
    the run says why when it reads the documents)."""
    roles_field = scope.settings["security.roles_field"]
    if scope.documents is not None and service in scope.documents:
        read = scope.documents[service]
        return parse(service, read.document, read.source, roles_field)
    if source.startswith("/"):
        return None
    try:
        return parse(service, served.read_file(service, resolve(scope.settings.root, source)), source, roles_field)
    except CrucibleError:
        return None
