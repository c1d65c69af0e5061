"""The security checks as the generic steps call them: each checks its input before anything is sent, runs,
attaches its table to the report, and fails naming what is wrong."""

from __future__ import annotations

import allure

from crucible.errors import TestDataError
from crucible.vocabulary import evidence
from crucible.vocabulary.security import access, audit, hostile, ownership
from crucible.vocabulary.security.probe import Probe

CSV = allure.attachment_type.CSV


def who_may_do_what(context, service: str, operation: str | None = None, role: str | None = None) -> None:
    """The access matrix of a service (or one operation, or one role): every call as its contract says."""
    probe = Probe.from_context(context)
    contract = probe.contract(service)
    operations = [contract.operation(operation)] if operation else None
    if role is not None:
        contract.check_role(role)
    cells = access.matrix(probe, service, operations, [role] if role else None)
    evidence.attach(context, access.table(cells), f"Who may do what: {service} ({len(cells)} calls)", CSV)
    access.expect(cells, service)


def hostile_input(context, service: str, operation: str | None = None) -> None:
    """The hostile-input sweep of a service (or one operation): no 5xx, no leak, nothing kept of refused input."""
    probe = Probe.from_context(context)
    operations = [probe.contract(service).operation(operation)] if operation else None
    attempts, searched = hostile.sweep(probe, service, operations)
    evidence.attach(context, hostile.table(attempts), f"Hostile input: {service} ({len(attempts)} requests; "
                                                      f"{searched})", CSV)
    hostile.expect(attempts, service)


def as_if_missing(context, service: str, request: str, name: str) -> None:
    """The scenario's current caller asks for a resource by a remembered id, then by a made-up one: same answer."""
    method, _, path = request.strip().partition(" ")
    real = str(context.variables.get(name))
    if not path or real not in path:
        raise TestDataError(f"'{request}' must be a method and a path that holds {{{name}}} (its value {real!r}), "
                            f"e.g. \"GET /orders/{{{name}}}\".")
    made_up = ownership.lookalike(real)
    seen = ownership.Seen.of(context.rest.send(method, service, path), real)
    missing = ownership.Seen.of(context.rest.send(method, service, path.replace(real, made_up)), made_up)
    ownership.expect_as_if_missing(seen, missing, f"{method.upper()} {path} ({name} {real})", "the caller")


def data_flow_audit(context) -> None:
    """Search everything the run's services said for card numbers, tokens and secrets; attach what was seen."""
    run_audit = context.audit
    looked_at = run_audit.run(context.stack, context.settings)
    ports = audit.bindings(context.stack)
    found = audit.merge(run_audit.found)
    evidence.attach(context, looked_at + "found: " + ("; ".join(str(f) for f in found) or "nothing") + "\n\n"
                    "published ports:\n" + audit.exposure_table(ports), "Data-flow audit")
    run_audit.expect_clean()


def exposure(context) -> None:
    """Every published port of the stack is bound to loopback; the table goes to the report."""
    ports = audit.bindings(context.stack)
    evidence.attach(context, audit.exposure_table(ports), f"Published ports ({len(ports)})", CSV)
    audit.expect_loopback(ports)
