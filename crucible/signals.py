"""Signals: SIGTERM behaves like Ctrl-C, and clean-up is never cut short by either."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager

log = logging.getLogger(__name__)


def _terminate(signum, frame):
    """Turn SIGTERM into KeyboardInterrupt so every clean-up path runs."""
    raise KeyboardInterrupt(f"received signal {signum}")


def install() -> None:
    """Make SIGTERM interrupt the run the way Ctrl-C does."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


@contextmanager
def held():
    """Hold SIGINT and SIGTERM while the block runs, so a second Ctrl-C cannot leave resources behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def hold(signum, frame):
        log.warning("Still removing the stack; it takes a few seconds (signal %d held)", signum)

    for sig in previous:
        signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            # getsignal() gives None for a handler not installed from Python: restore the default then.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
