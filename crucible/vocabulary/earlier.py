"""What an earlier step of the scenario left for a later one (a load's result, a pact interaction, a verification)."""

from __future__ import annotations

from typing import Any


def left(context, name: str, missing: Exception) -> Any:
    """The value an earlier step kept on the context as ``name``; without one, ``missing`` (naming that step)."""
    found = getattr(context, name, None)
    if found is None:
        raise missing
    return found
