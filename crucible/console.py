"""Progress output on the console, outside behave's log capture."""

from __future__ import annotations

import logging
import sys


def setup(level: int = logging.INFO) -> None:
    """Send the harness's progress (logger 'crucible') straight to the real stderr."""
    logger = logging.getLogger("crucible")
    if any(getattr(h, "_crucible", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("crucible: %(message)s"))
    handler._crucible = True
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
