"""Consumer-driven contracts with pact-python 4 (the Pact Rust core): consumer expectations and pact files.

A consumer scenario describes one interaction: the provider state it assumes, the request the
consumer sends (or the message it receives) and what it relies on in the answer. The interaction is
exercised against Pact's mock server (or, for a message, handed to the consumer's check) and written
to a standard V4 pact file ``<consumer>-<provider>.json`` in ``<results>/pacts``. The pact files the
provider side verifies are the committed ones in the setting ``pact.folder`` (``pacts/``): a
scenario whose interaction differs from the committed one fails until ``crucible pacts`` rewrites
them and they are committed, as ``crucible docs`` does for the step catalogue.

Pact's telemetry is off: the Rust core honours ``PACT_DO_NOT_TRACK=true`` (``1`` still sends).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from crucible import secrets
from crucible.errors import ContractError, TestDataError
from crucible.settings import Settings
from crucible.vocabulary import earlier
from crucible.vocabulary.contracts import expectations

log = logging.getLogger(__name__)

NO_BODY = object()
GENERATED = "pacts"  # the folder under the results folder where a run writes its pact files
MOCK_TIMEOUT_S = 10.0


def library():
    """pact-python, imported with Pact's telemetry switched off."""
    if os.environ.get("PACT_DO_NOT_TRACK", "").lower() != "true":
        os.environ["PACT_DO_NOT_TRACK"] = "true"
    import pact
    return pact


def generated_folder(options: Settings) -> Path:
    """Where a run writes the pact files its consumer scenarios produce."""
    return options.path("report.results") / GENERATED


def file_name(consumer: str, provider: str) -> str:
    """The standard pact file name of a consumer-provider pair."""
    return f"{consumer}-{provider}.json"


def read(path: Path) -> dict:
    """A pact file as JSON; a ContractError naming it when it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"The pact file {path} cannot be read: {exc}") from None


def interactions(pact: dict) -> dict[str, dict]:
    """A pact's interactions by description."""
    return {item.get("description", ""): item for item in pact.get("interactions", [])}


def pact_files(folder: Path) -> list[Path]:
    """The pact files in a folder (provider states and other files beside them are not pacts)."""
    return sorted(path for path in folder.glob("*.json") if path.is_file()) if folder.is_dir() else []


def normalised(value: Any) -> str:
    """An interaction as canonical JSON, for comparing a generated one with a committed one."""
    return json.dumps(value, sort_keys=True)


def stale(generated: Path, committed: Path, descriptions: list[str] | None = None) -> list[str]:
    """How a generated pact file differs from the committed one (only ``descriptions`` when given)."""
    if not committed.is_file():
        return [f"{committed} is missing"]
    mine, theirs = interactions(read(generated)), interactions(read(committed))
    problems = []
    for description in descriptions if descriptions is not None else mine:
        if description not in theirs:
            problems.append(f"'{description}' is not in {committed}")
        elif normalised(mine[description]) != normalised(theirs[description]):
            problems.append(f"'{description}' differs from the one in {committed}")
    if descriptions is None:
        problems += [f"'{d}' is in {committed} but no scenario wrote it" for d in theirs if d not in mine]
    return problems


def check_folder(options: Settings) -> list[str]:
    """Every way the pact files a whole run generated differ from the committed ones (pairs it did not write
    are left alone: other repositories' consumers may have put them there)."""
    problems = []
    for path in pact_files(generated_folder(options)):
        problems += stale(path, options.path("pact.folder") / path.name)
    return problems


def update_folder(options: Settings) -> list[Path]:
    """Copy the pact files a run generated into the pact folder; return what was written."""
    target = options.path("pact.folder")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in pact_files(generated_folder(options)):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(target / path.name)
    return written


@dataclass
class Expectation:
    """One interaction a consumer scenario is describing, step by step."""

    consumer: str
    provider: str
    messages: bool = False
    states: list[tuple[str, dict]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    method: str | None = None
    path: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = NO_BODY
    message: str | None = None

    def given(self, state: str, params: dict[str, Any]) -> None:
        """The provider state the interaction assumes, with its parameters."""
        self.states.append((state, params))

    def provides(self, name: str, example: Any) -> None:
        """A value the provider state hands back (e.g. the id of a record it made), with an example."""
        if not self.states:
            raise TestDataError(f"'{name}' comes from a provider state: name the state first (Given the provider "
                                f"state \"...\").")
        self.values[name] = example

    def sends(self, method: str, path: str, body: Any = NO_BODY, query: dict[str, str] | None = None) -> None:
        """The request the consumer sends (its body may hold markers, see expectations)."""
        if self.messages:
            raise TestDataError(f"'{self.consumer}' consumes messages from '{self.provider}': it sends no request.")
        self.method, self.path, self.body, self.query = method.upper(), path, body, dict(query or {})

    def generators(self) -> dict:
        """Pact generators that put the provider state's values into the request when the provider is verified."""
        found: dict = {}
        for name, example in self.values.items():
            text = str(example)
            if self.path and text in self.path:
                found["path"] = {"type": "ProviderState", "dataType": "STRING",
                                 "expression": (found.get("path", {}).get("expression") or self.path)
                                 .replace(text, "${" + name + "}")}
            for location in _places(expectations.examples(self.body), example):
                found.setdefault("body", {})[location] = {"type": "ProviderState", "expression": "${" + name + "}"}
        return found


def _places(value: Any, example: Any, path: str = "$") -> list[str]:
    """The JSON paths in a body whose value is ``example``."""
    if value == example and path != "$":
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _places(item, example, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _places(item, example, f"{path}[{index}]")]
    return []


class ConsumerContract:
    """Writes one consumer scenario's interaction: exercised against Pact's mock server, then into a pact file."""

    def __init__(self, options: Settings, description: str):
        self.options = options
        self.description = description

    @staticmethod
    def _interaction(pact, description: str, expectation: Expectation, kind: str = "HTTP"):
        """The scenario's interaction in a fresh V4 pact of the pair, with its provider states."""
        interaction = pact.upon_receiving(description, kind)
        for state, params in expectation.states:
            interaction.given(state, params or None)
        return interaction

    def answer(self, expectation: Expectation, status: int, body: Any = NO_BODY) -> requests.Response:
        """Exercise the interaction against the mock server; return its answer once it matched; write the pact."""
        if expectation.method is None:
            raise TestDataError("Say what the consumer sends before what the provider answers (When the consumer "
                                "sends a GET request to \"/...\").")
        pact = library().Pact(expectation.consumer, expectation.provider)
        interaction = self._interaction(pact, self.description, expectation)
        interaction.with_request(expectation.method, expectation.path)
        for name, value in expectation.query.items():
            interaction.with_query_parameter(name, value)
        for name, value in expectation.headers.items():
            interaction.with_header(name, value, part="Request")
        if expectation.body is not NO_BODY:
            interaction.with_body(expectation.body, content_type="application/json", part="Request")
        if expectation.generators():
            interaction.with_generators(expectation.generators())
        interaction.will_respond_with(status)
        if body is not NO_BODY:
            interaction.with_body(body, content_type="application/json", part="Response")
        response = self._exercise(pact, expectation)
        if response.status_code != status:
            raise ContractError(f"Pact's mock server answered {response.status_code}, not {status}, to the request "
                                f"this scenario describes: {secrets.shortened(response.text, 300, '')}")
        self._write(pact, expectation)
        return response

    def _exercise(self, pact, expectation: Expectation) -> requests.Response:
        """Send the consumer's request to Pact's mock server; a mismatch is the scenario's own error."""
        sent = expectations.examples(expectation.body)
        with pact.serve(raises=False, verbose=False) as server:
            response = requests.request(expectation.method, f"{server.url}{expectation.path}",
                                        params=expectation.query or None, headers=expectation.headers,
                                        json=None if expectation.body is NO_BODY else sent, timeout=MOCK_TIMEOUT_S)
            mismatches = server.mismatches
        if mismatches:
            raise ContractError(f"Pact's mock server did not recognise the consumer's request "
                                f"({expectation.method} {expectation.path}): {secrets.shortened(json.dumps(mismatches), 500, '')}")
        return response

    def receive(self, expectation: Expectation, body: Any) -> Any:
        """A message interaction: the consumer's check of the message, then the pact file."""
        if expectation.message is None:
            raise TestDataError("Name the message the provider publishes first (When the provider publishes a "
                                "\"stock.changed\" message).")
        pact = library().Pact(expectation.consumer, expectation.provider)
        interaction = self._interaction(pact, self.description, expectation, "Async")
        interaction.with_body(body, content_type="application/json")
        interaction.with_metadata({"routing_key": expectation.message})
        received: list[Any] = []

        def consumer(contents, metadata) -> None:
            message = json.loads(contents.decode("utf-8") if isinstance(contents, bytes) else contents)
            if not isinstance(message, dict):
                raise AssertionError(f"the '{expectation.message}' message is not a JSON object: {contents!r}")
            received.append(message)

        errors = pact.verify(consumer, "Async", raises=False)
        if errors:
            raise ContractError(f"The consumer could not handle the message: {errors[0]}")
        self._write(pact, expectation)
        return received[0]

    def _write(self, pact, expectation: Expectation) -> Path:
        """Add the interaction to the run's pact file of the pair; unless updating, compare with the committed one."""
        folder = generated_folder(self.options)
        folder.mkdir(parents=True, exist_ok=True)
        generated = folder / file_name(expectation.consumer, expectation.provider)
        with open(folder / ".lock", "w") as lock:  # workers (crucible run --workers) add to the same files
            fcntl.flock(lock, fcntl.LOCK_EX)
            pact.write_file(folder, overwrite=False)
            committed = self.options.path("pact.folder") / generated.name
            problems = [] if self.options["pact.update"] else stale(generated, committed, [self.description])
        if problems:
            raise StalePact(f"The committed pact is not what this scenario writes: {'; '.join(problems)}. "
                            f"Run `crucible pacts` (make pacts) and commit {committed}.")
        return generated


class StalePact(ContractError):
    """A committed pact file is missing or differs from what the consumer scenarios write."""


def start(context, consumer: str, provider: str, messages: bool = False) -> Expectation:
    """Start the interaction a consumer scenario describes."""
    context.expectation = Expectation(consumer, provider, messages=messages)
    return context.expectation


def expectation(context) -> Expectation:
    """The interaction this scenario describes; a TestDataError when no consumer step started one."""
    return earlier.left(context, "expectation", TestDataError(
        "Name the consumer and the provider first: Given \"orders\" is a consumer of \"inventory\" (or: Given "
        "\"availability\" consumes messages from \"inventory\")."))


def answered(context, status: int, body: Any = NO_BODY) -> requests.Response:
    """The provider's answer the scenario relies on: exercised against the mock server, written to the pact."""
    return ConsumerContract(context.settings, context.scenario.name).answer(expectation(context), status, body)


def received(context, body: Any) -> Any:
    """The message the scenario's consumer relies on: checked by the consumer, written to the pact."""
    return ConsumerContract(context.settings, context.scenario.name).receive(expectation(context), body)
