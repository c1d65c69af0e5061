"""Where each service's OpenAPI document comes from: the setting ``services.<name>.openapi``.

A value that starts with ``/`` is a path the service itself serves (``"/openapi.json"``), read from
the running service; anything else is a file (JSON or YAML) relative to the settings file. A service
without the setting has no document and is not contract-checked.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import requests
import yaml

from crucible.errors import ContractError
from crucible.settings import Settings, resolve
from crucible.vocabulary.contracts.openapi import Contract

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 10.0


def source_of(options: Settings, service: str) -> str | None:
    """Where a service's document is, as the settings say (None: it has none)."""
    return options.service(service).get("openapi")


def read_served(service: str, url: str) -> dict:
    """A document the service serves; a ContractError naming the service, the URL and the setting."""
    hint = f"Check services.{service}.openapi in the settings."
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_S, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise ContractError(f"Cannot read the OpenAPI document of '{service}' at {url}: {exc}. {hint}") from None
    if response.status_code != 200:
        raise ContractError(f"The OpenAPI document of '{service}' at {url} answered {response.status_code}, not 200. "
                            f"{hint}")
    try:
        return yaml.safe_load(response.text) if "yaml" in response.headers.get("Content-Type", "") \
            else response.json()
    except (ValueError, yaml.YAMLError) as exc:
        raise ContractError(f"The OpenAPI document of '{service}' at {url} is not JSON or YAML: {exc}") from None


def read_file(service: str, path: Path) -> dict:
    """A document kept in a file (JSON or YAML)."""
    if not path.is_file():
        raise ContractError(f"The OpenAPI document of '{service}' is missing: {path} does not exist. Check "
                            f"services.{service}.openapi in the settings (a file is relative to the settings file; "
                            f"a path the service serves starts with /).")
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ContractError(f"The OpenAPI document of '{service}' in {path} cannot be read: {exc}") from None


def load(options: Settings, stack) -> dict[str, Contract]:
    """The contract of every service of the stack that has a document."""
    contracts: dict[str, Contract] = {}
    for service in sorted(stack.project.services):
        source = source_of(options, service)
        if not source:
            continue
        if source.startswith("/"):
            url = stack.http_url(service, options.service(service).get("port")) + source
            document, where = read_served(service, url), f"served at {source}"
        else:
            path = resolve(options.root, source)
            document, where = read_file(service, path), source
        if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
            raise ContractError(f"The document of '{service}' ({where}) is not an OpenAPI 3 document (it has no "
                                f"'openapi: 3.x' field). Check services.{service}.openapi in the settings.")
        contracts[service] = Contract(service, document, where)
        log.debug("contract of %s: %d operations from %s", service, len(contracts[service].operations()), where)
    return contracts
