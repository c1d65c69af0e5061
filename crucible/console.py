"""Progress output on the console, outside behave's log capture."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator


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


@contextlib.contextmanager
def native_stdout_silenced() -> Iterator[None]:
    """While it lasts, what native code prints to the process's standard output (file descriptor 1) is dropped.

    For a native library that prints a report it also hands back (Pact's verifier): the report goes to
    the Allure results once, not also into the middle of behave's console output. Python's own
    stdout is flushed first; the harness's progress goes to stderr and is not touched.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
