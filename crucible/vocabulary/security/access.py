"""Who may do what: every operation of a contract, called as every role and with every broken token.

For each operation the contract protects, the matrix sends one request per role (every role the
settings' ``auth.roles`` list and every role any operation of the contract names) and one per broken
token (no token, expired, signed with another key, ``alg: none``, a tampered claim). A role the
operation's ``x-roles`` names must be admitted (any answer but 401 and 403), any other role refused
with 403, every broken token refused with 401. Public operations (``security: []``) must answer
without a token.

The requests change nothing: path parameters are made-up ids and there is no body, so an admitted
call is turned down for its input (400, 404, 422) after the role check, never carried out.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from urllib.parse import quote

from crucible.errors import HttpError
from crucible.vocabulary.security.contract import Contract, Operation
from crucible.vocabulary.security.probe import DEFECTS, NO_TOKEN, Credential, Probe

log = logging.getLogger(__name__)

ADMITTED = "admitted"
FORBIDDEN = "403"
UNAUTHENTICATED = "401"


def verdict(status: int | None) -> str:
    """What an answer means for access: 401, 403, or admitted (anything else); 'no answer' without one."""
    if status is None:
        return "no answer"
    return {401: UNAUTHENTICATED, 403: FORBIDDEN}.get(status, ADMITTED)


@dataclass
class Cell:
    """One call of the matrix: an operation, who called, what the contract expects and what was answered."""

    operation: str
    who: str
    expected: str
    status: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True if the answer is what the contract expects."""
        return verdict(self.status) == self.expected

    def text(self) -> str:
        """The cell as the table shows it: ``403 ok`` or ``400 WRONG (expected 403)``."""
        shown = "no answer" if self.status is None else str(self.status)
        return f"{shown} ok" if self.ok else f"{shown} WRONG (expected {self.expected})"

    def problem(self) -> str:
        """The disagreement in words."""
        what = {ADMITTED: "admitted", FORBIDDEN: "refused with 403", UNAUTHENTICATED: "refused with 401"}
        got = f"answered {self.status}" if self.status is not None else f"gave no answer ({self.detail})"
        return f"{self.operation} with {self.who}: {got}, but the contract says it must be {what[self.expected]}"


def probe_path(operation: Operation, uid: str) -> str:
    """The operation's path with every parameter a made-up id."""
    path = operation.path
    for name in operation.path_parameters():
        path = path.replace("{" + name + "}", quote(f"probe-{name}-{uid}", safe=""))
    return path


def _call(probe: Probe, service: str, operation: Operation, credential: Credential) -> tuple[int | None, str]:
    """Send the operation once with a credential; (status, '') or (None, why there was no answer)."""
    headers = {**operation.headers(f"probe-{probe.uid}"), **credential.headers}
    try:
        response = probe.client(service).request(operation.method, probe_path(operation, probe.uid), headers=headers)
    except HttpError as exc:
        return None, str(exc)
    return response.status_code, ""


def roles_to_try(probe: Probe, contract: Contract) -> list[str]:
    """The settings' roles, then any other role the contract names."""
    return list(dict.fromkeys([*probe.auth.roles, *contract.roles()]))


def expected_cells(operation: Operation, roles: list[str], defects: bool = True) -> list[tuple[str, str, str | None]]:
    """(who, expected verdict, role to sign as or None for a broken token) for one operation."""
    if operation.public:
        return [(NO_TOKEN, ADMITTED, None)]
    cells = [(role, ADMITTED if role in operation.roles else FORBIDDEN, role) for role in roles]
    if operation.roles and defects:
        cells += [(defect, UNAUTHENTICATED, None) for defect in DEFECTS]
    return cells


def matrix(probe: Probe, service: str, operations: list[Operation] | None = None,
           roles: list[str] | None = None) -> list[Cell]:
    """Call each operation (default: all of the contract) as each role and with each broken token; with
    ``roles`` given, as those roles only."""
    contract = probe.contract(service)
    defects = roles is None
    roles = roles or roles_to_try(probe, contract)
    cells = []
    for operation in operations or contract.operations:
        if not operation.public and not operation.roles:
            cells.append(Cell(operation.name, "the contract", "roles", None,
                              f"names no roles ({probe.settings['security.roles_field']}) and is not public"))
            continue
        refused = next((role for role in roles if role not in (operation.roles or ())), None)
        admitted = operation.roles[-1] if operation.roles else None
        for who, expected, role in expected_cells(operation, roles, defects):
            if role is not None:
                credential = probe.as_role(role)
            elif who == NO_TOKEN:
                credential = Credential(NO_TOKEN)
            else:
                credential = probe.defect(who, admitted, refused)
            status, detail = _call(probe, service, operation, credential)
            cells.append(Cell(operation.name, who, expected, status, detail))
    log.debug("%s: %d calls, %d disagree", service, len(cells), sum(not c.ok for c in cells))
    return cells


def table(cells: list[Cell]) -> str:
    """The matrix as CSV: one row per operation, one column per role and broken token."""
    columns = list(dict.fromkeys(cell.who for cell in cells))
    rows: dict[str, dict[str, str]] = {}
    for cell in cells:
        rows.setdefault(cell.operation, {})[cell.who] = cell.text() if cell.expected != "roles" else cell.detail
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["operation", *columns])
    for operation, row in rows.items():
        writer.writerow([operation, *(row.get(column, "-") for column in columns)])
    return out.getvalue()


def expect(cells: list[Cell], service: str) -> None:
    """Fail naming every call whose answer the contract does not allow."""
    wrong = [cell for cell in cells if not cell.ok]
    assert not wrong, (f"expected every '{service}' operation to admit only the roles its contract names and to refuse "
                       f"every broken token, but {len(wrong)} of {len(cells)} calls disagree:\n  "
                       + "\n  ".join(cell.problem() if cell.expected != "roles" else f"{cell.operation} {cell.detail}"
                                     for cell in wrong[:20]))
