"""Progress output on the console, outside behave's log capture, and every console line with secrets hidden."""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator

from crucible import secrets


class MaskingFormatter(logging.Formatter):
    """A log formatter whose every line passes through :func:`crucible.secrets.mask`."""

    def format(self, record: logging.LogRecord) -> str:
        return secrets.mask(super().format(record))


class MaskingStream(io.TextIOBase):
    """A text stream that writes whole lines, each through :func:`crucible.secrets.mask`, to another stream.

    A line is held until it ends (a secret split across two writes is still found); what is left is
    written when the stream is closed, or when the process exits.
    """

    def __init__(self, target):
        super().__init__()
        self.target = target
        self.pending = ""
        atexit.register(self.close)

    def write(self, text: str) -> int:
        self.pending += text
        if "\n" in self.pending:
            lines, _, self.pending = self.pending.rpartition("\n")
            self.target.write(secrets.mask(lines + "\n"))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def close(self) -> None:
        if self.pending:
            self.target.write(secrets.mask(self.pending))
            self.pending = ""
        with contextlib.suppress(ValueError, OSError):
            self.target.flush()

    @property
    def encoding(self) -> str:
        return getattr(self.target, "encoding", "utf-8")

    def isatty(self) -> bool:
        return getattr(self.target, "isatty", lambda: False)()

    def fileno(self) -> int:
        return self.target.fileno()


def masked(stream):
    """``stream`` behind a :class:`MaskingStream` (the same stream when it is one already)."""
    return stream if stream is None or isinstance(stream, MaskingStream) else MaskingStream(stream)


def mask_streams() -> None:
    """Hide secrets in everything this process prints on its standard output and error streams."""
    sys.stdout, sys.stderr = masked(sys.stdout), masked(sys.stderr)


def setup(level: int = logging.INFO) -> None:
    """Send the harness's progress (logger 'crucible') straight to the real stderr, secrets hidden."""
    logger = logging.getLogger("crucible")
    if any(getattr(h, "_crucible", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(MaskingFormatter("crucible: %(message)s"))
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
