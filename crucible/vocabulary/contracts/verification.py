"""Provider verification: the committed pacts that name a provider, replayed against its running container.

Pact's verifier (the Rust core) replays every HTTP interaction against the service's published
URL, with the scenario's standing headers (e.g. its token) on every request, after setting the
provider state up through :mod:`crucible.vocabulary.contracts.states`. For a message interaction it
asks for the message; the state has made the real service publish it (a state that listens for the
event and then acts), and the message given to Pact is the one the broker delivered. A broken
interaction fails the step naming the consumer, the interaction and each field. Each verification
is written into the results folder, for the can-i-deploy matrix of the report.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import allure

from crucible import console, secrets
from crucible.errors import ContractError, ContractViolation
from crucible.vocabulary import earlier, messaging
from crucible.vocabulary.contracts import pacts
from crucible.vocabulary.contracts.states import MainThread, States, StateServer, state_file

log = logging.getLogger(__name__)

RESULTS_GLOB = "crucible-pact-verification-*.json"
MESSAGE_WAIT_S = 10.0
REQUEST_TIMEOUT_MS = 30000


@dataclass
class Failure:
    """One interaction the provider did not honour."""

    consumer: str
    description: str
    states: list[str]
    problems: list[str]

    def render(self) -> str:
        """``orders, 'A reservation ...' (given 'a store has stock'): $.status: expected ...``"""
        given = f" (given {', '.join(repr(s) for s in self.states)})" if self.states else ""
        lines = "".join(f"\n      {problem}" for problem in self.problems)
        return f"  - consumer {self.consumer}, interaction '{self.description}'{given}:{lines}"


@dataclass
class Verification:
    """The outcome of verifying one provider against every pact that names it."""

    provider: str
    files: list[str]
    interactions: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    output: str = ""

    def consumers(self) -> list[str]:
        """Every consumer whose pact was verified."""
        return sorted(self.interactions)

    def message(self) -> str:
        """The failures as a QA engineer reads them: consumer, interaction, field, expected and actual."""
        total = sum(self.interactions.values())
        return (f"{self.provider} does not honour {len(self.failures)} of the {total} interactions its consumers "
                f"rely on (pacts: {', '.join(self.files)}):\n" + "\n".join(f.render() for f in self.failures))

    def to_json(self) -> dict:
        """What the can-i-deploy matrix needs: per consumer, how many interactions, how many failed."""
        failed = Counter(f.consumer for f in self.failures)
        return {"provider": self.provider, "pairs": {c: {"interactions": n, "failed": failed[c]}
                                                     for c, n in self.interactions.items()}}

    def write(self, results_dir: Path) -> None:
        """Record this verification in the results folder."""
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"crucible-pact-verification-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def pacts_of(folder: Path, provider: str) -> list[tuple[Path, dict]]:
    """The committed pacts that name a provider."""
    return [(path, pact) for path, pact in ((p, pacts.read(p)) for p in pacts.pact_files(folder))
            if pact.get("provider", {}).get("name") == provider]


def problems_of(mismatch: dict, failed_states: dict[str, str], states: list[str]) -> list[str]:
    """The mismatches Pact reports for one interaction, one line each."""
    lines = []
    for item in mismatch.get("mismatches") or []:
        where = item.get("path") or {"StatusMismatch": "status", "HeaderMismatch": "header"}.get(item.get("type"), "")
        text = item.get("mismatch") or item.get("type")
        detail = ""
        if "expected" in item and "actual" in item:
            detail = f" (expected {item['expected']}, got {item['actual']})"
        lines.append(f"{where}: {text}{detail}" if where else f"{text}{detail}")
    if not lines:
        lines.append(secrets.shortened(str(mismatch.get("message") or mismatch.get("type") or mismatch), 400, ""))
    lines += [failed_states[state] for state in states if state in failed_states]
    return lines


class ProviderVerifier:
    """Verifies one provider of the running stack against the committed pacts."""

    def __init__(self, context, provider: str):
        self.context = context
        self.provider = provider
        options = context.settings
        self.files = pacts_of(options.path("pact.folder"), provider)
        if not self.files:
            raise ContractError(f"No pact in {options.path('pact.folder')} names the provider '{provider}': "
                                f"write a consumer feature for it and run `crucible pacts`.")
        self.states = States(provider, state_file(options.path("pact.states"), provider))
        self.messages = {item["description"]: item for _, pact in self.files for item in pact.get("interactions", [])
                         if item.get("type", "").startswith("Asynchronous")}
        self.main = MainThread()
        self.failed_states: dict[str, str] = {}

    def run(self) -> Verification:
        """Replay every interaction against the provider; return what was honoured and what was not."""
        pact = pacts.library()
        options = self.context.settings
        url = self.context.stack.http_url(self.provider, options.service(self.provider).get("port"))
        verifier = pact.Verifier(self.provider, host=urlsplit(url).hostname)
        verifier.set_coloured_output(enabled=False).set_request_timeout(REQUEST_TIMEOUT_MS)
        if len(self.messages) < sum(len(p.get("interactions", [])) for _, p in self.files):
            verifier.add_transport(url=url)
        if self.messages:
            verifier.message_handler(lambda name, metadata: self.main.call(self._message, name))
        for name, value in self.context.rest.headers_for(self.provider).items():
            verifier.add_custom_header(name, value)
        for path, _ in self.files:
            verifier.add_source(path)
        with StateServer(lambda state, params: self.main.call(self._state, state, params),
                         self.failed_states) as server:
            verifier.state_handler(server.url, body=True, teardown=False)
            errors: list[BaseException] = []
            worker = threading.Thread(target=self._verify, args=(verifier, errors), daemon=True)
            with console.native_stdout_silenced():  # the verifier prints the report it also returns (attached)
                worker.start()
                self.main.serve_while(worker)
        if errors and not isinstance(errors[0], RuntimeError):
            raise ContractError(f"Pact's verifier could not verify '{self.provider}': {errors[0]}")
        return self._outcome(verifier)

    @staticmethod
    def _verify(verifier, errors: list[BaseException]) -> None:
        """The verifier's run (on a worker thread: its callbacks come back to the step's thread)."""
        try:
            verifier.verify()
        except BaseException as exc:  # a failed verification raises RuntimeError; the results say why
            errors.append(exc)

    def _state(self, state: str, params: dict) -> dict:
        """Set a provider state up (on the step's thread)."""
        values = self.states.set_up(self.context, state, params)
        log.debug("provider state %r set up with %s -> %s", state, params, values)
        return values

    def _message(self, description: str) -> dict:
        """The message the provider really published for a message interaction (on the step's thread)."""
        interaction = self.messages.get(description)
        if interaction is None:
            raise ContractError(f"Pact asked for the message '{description}', which no pact of '{self.provider}' has.")
        key = (interaction.get("metadata") or {}).get("routing_key")
        if not key:
            raise ContractError(f"The message interaction '{description}' names no routing_key in its metadata.")
        event = messaging.for_scenario(self.context).expect(key, None, MESSAGE_WAIT_S)
        body = event.body if isinstance(event.body, str) else json.dumps(event.body)
        return {"contents": body.encode("utf-8"), "metadata": {"routing_key": event.routing_key},
                "content_type": "application/json"}

    def _outcome(self, verifier) -> Verification:
        """The verifier's results as a Verification."""
        results = verifier.results
        outcome = Verification(self.provider, [str(path) for path, _ in self.files], output=verifier.output(
            strip_ansi=True))
        for item in results.get("interactionResults") or []:
            outcome.interactions[item.get("consumer", "?")] += 1
            if item.get("result") != "OK":
                states = list(item.get("providerStates") or [])
                outcome.failures.append(Failure(item.get("consumer", "?"), item.get("description", "?"), states,
                                                problems_of(item.get("mismatch") or {}, self.failed_states, states)))
        return outcome


def verify(context, provider: str) -> Verification | None:
    """Verify a provider against its consumers' pacts; keep the outcome on the scenario for the check.

    While ``crucible pacts`` rewrites the pact files (setting pact.update) the scenario is skipped: it verifies
    the committed files, which are about to change.
    """
    if context.settings["pact.update"]:
        context.scenario.skip(reason="the pact files are being rewritten (pact.update): verify them with a run")
        return None
    outcome = ProviderVerifier(context, provider).run()
    outcome.write(context.settings.path("report.results"))
    allure.attach(outcome.output or "(no output)", name=f"Pact verification of {provider}",
                  attachment_type=allure.attachment_type.TEXT)
    context.verification = outcome
    return outcome


def expect_honoured(context) -> None:
    """Fail naming each consumer, interaction and field the last verification found broken."""
    outcome = earlier.left(context, "verification", ContractError(
        "No provider has been verified in this scenario: a step such as 'When the pacts of \"inventory\"'s "
        "consumers are verified against it' must come first."))
    if not outcome.interactions:
        raise ContractError(f"The pacts of '{outcome.provider}' hold no interaction to verify: {outcome.files}")
    if outcome.failures:
        raise ContractViolation(outcome.message())
