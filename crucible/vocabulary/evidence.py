"""Evidence attached to the report: text and tables with every secret hidden before they are written.

Every attachment Crucible makes (HTTP exchanges, events, service logs, security matrices) goes
through :func:`attach`, which hides card numbers, tokens, passwords and the stack's own secret
values (``context.secrets``, read from the compose file when the stack comes up). The search of
the results after the run (:mod:`crucible.report.safety`) is the backstop for anything else.
"""

from __future__ import annotations

import allure

from crucible.secrets import Secrets

_SHAPES = Secrets()


def hidden(context, text: str) -> str:
    """Text with the project's secrets hidden (only their shapes when the run knows no values)."""
    return (getattr(context, "secrets", None) or _SHAPES).redact(text)


def attach(context, text: str, name: str, kind=allure.attachment_type.TEXT) -> None:
    """Attach text (or CSV with ``kind=allure.attachment_type.CSV``) to the current report step, secrets hidden."""
    allure.attach(hidden(context, text), name=name, attachment_type=kind)
