"""Evidence attached to the report: text and tables with every secret hidden before they are written.

Every attachment Crucible makes (HTTP exchanges, events, service logs, security matrices) goes
through :func:`attach`, which hides card numbers, tokens, passwords and the stack's own secret
values with :func:`crucible.secrets.mask` (the run's secrets, read from the compose file and the
settings when the stack comes up). Crucible's formatter masks every result and attachment again as
it writes them, and the search of the results after the run (:mod:`crucible.report.safety`) is the
last line of defence.
"""

from __future__ import annotations

import allure

from crucible import secrets


def hidden(context, text: str) -> str:
    """Text with the run's secrets hidden (only their shapes when the run knows no values)."""
    return secrets.mask(text)


def attach(context, text: str, name: str, kind=allure.attachment_type.TEXT) -> None:
    """Attach text (or CSV with ``kind=allure.attachment_type.CSV``) to the current report step, secrets hidden."""
    allure.attach(hidden(context, text), name=name, attachment_type=kind)
