"""Crucible's console output: behave's plain formatter, with secrets hidden and harness errors in words.

``crucible run`` prints behave's progress with it (``--format crucible.report.plain:PlainFormatter``),
and this repository's behave.ini names it for behave run directly. Two differences from behave's own:

* every line passes through :func:`crucible.secrets.mask` before it reaches the console;
* a step that raised a :class:`~crucible.errors.CrucibleError` (invalid JSON in a docstring, an unset
  variable, a stack that stopped answering) is shown as its message and the step's location, without
  the Python traceback above it: the message already says what to do, and the traceback stays in the
  report's broken result for those who want it. Failed expectations and other exceptions are shown as
  behave shows them.
"""

from __future__ import annotations

from behave.formatter.plain import PlainFormatter as BehavePlain

from crucible import console
from crucible.errors import CrucibleError


def harness_error(step) -> str:
    """How a step's harness error reads on the console: its kind, the step's location and the message."""
    exception = step.exception
    return f"{type(exception).__name__} at {step.location}: {exception}"


class PlainFormatter(BehavePlain):
    """behave's plain formatter: secrets hidden in every line, harness errors without their traceback."""

    name = "crucible-plain"
    description = "behave's plain output, secrets hidden, harness errors as their message"

    def open(self):
        """The output stream (the console, or the file -o names), every line masked."""
        opener = self.stream_opener
        opener.stream = console.masked(opener.stream if opener.stream and not opener.stream.closed else opener.open())
        self.stream = opener.stream
        return self.stream

    def result(self, step):
        """Print a step's result; a harness error as its message and location only."""
        exception = getattr(step, "exception", None)
        if not isinstance(exception, CrucibleError) or not step.error_message:
            super().result(step)
            return
        full, step.error_message = step.error_message, harness_error(step)
        try:
            super().result(step)
        finally:
            step.error_message = full
