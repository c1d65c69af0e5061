"""Provider contracts of a run: every HTTP exchange checked against the document of the service that answered.

``crucible.fixtures`` loads the documents once the stack is up and hands every recorded exchange to
:meth:`ProviderContracts.check`. A violation raises :class:`~crucible.errors.ContractViolation` in
the step that made the exchange; a request that is itself outside the document (bad input sent on
purpose) is recorded and its refusal checked instead. Whatever is checked counts towards the run's
contract coverage, written into the results folder when the run ends.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import requests

from crucible.errors import ContractError, ContractViolation
from crucible.settings import Settings
from crucible.vocabulary.contracts import documents
from crucible.vocabulary.contracts.coverage import Coverage
from crucible.vocabulary.contracts.openapi import Contract, Verdict

log = logging.getLogger(__name__)

OPT_OUT_TAG = "no-contract-check"


class ProviderContracts:
    """The contracts of one run's services and what the run's exchanges exercised of them."""

    def __init__(self, contracts: dict[str, Contract]):
        self.contracts = contracts
        self.coverage = Coverage()
        for service, contract in contracts.items():
            self.coverage.document(service, contract.source, contract.operations())

    @classmethod
    def load(cls, options: Settings, stack) -> "ProviderContracts":
        """Read every configured document (a ContractError names the service and the setting)."""
        found = cls(documents.load(options, stack))
        if found.contracts:
            log.info("Contract-checking every exchange with: %s", ", ".join(sorted(found.contracts)))
        return found

    def contract(self, service: str) -> Contract:
        """A service's contract; a ContractError saying which setting gives it one when it has none."""
        if service not in self.contracts:
            have = ", ".join(sorted(self.contracts)) or "none"
            raise ContractError(f"'{service}' has no OpenAPI document: set services.{service}.openapi in the settings "
                                f"(services with one: {have}).")
        return self.contracts[service]

    def check(self, service: str, response: requests.Response, enforce: bool = True) -> Verdict | None:
        """Check one exchange and count it; raise ContractViolation when it breaks the service's document.

        ``enforce=False`` (the setting contracts.check, or a scenario tagged @no-contract-check) only counts it.
        """
        contract = self.contracts.get(service)
        if contract is None:
            if not self.coverage.unchecked[service]:
                log.info("'%s' has no OpenAPI document (setting services.%s.openapi): its exchanges are not "
                         "contract-checked", service, service)
            self.coverage.unchecked[service] += 1
            return None
        if not enforce:
            self.coverage.exercise(service, contract.operation(response.request.method, response.request.url),
                                   response.status_code)
            return None
        started = time.perf_counter()
        verdict = contract.check(response)
        self.coverage.checked += 1
        self.coverage.check_seconds += time.perf_counter() - started
        self.coverage.exercise(service, verdict.operation, verdict.status)
        _, problems = verdict.violations()
        if problems:
            self.coverage.violations[service] += 1
            raise ContractViolation(verdict.message())
        if verdict.deliberate:
            self.coverage.deliberate[service] += 1
        return verdict

    def write(self, results_dir: Path) -> None:
        """Write the coverage this process saw into the results folder."""
        path = self.coverage.write(results_dir)
        if path is not None:
            log.debug("contract coverage written to %s", path)


def enforced(options: Settings, scenario) -> bool:
    """Whether a scenario's exchanges are checked: the setting contracts.check and no @no-contract-check tag."""
    return bool(options["contracts.check"]) and OPT_OUT_TAG not in scenario.effective_tags
