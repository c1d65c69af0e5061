"""Provider states: how provider verification puts a provider into the state an interaction assumes.

A provider's states are written in Gherkin, in ``<pact.states>/<provider>.feature`` (default
``pacts/states/inventory.feature``): each scenario is one state, named exactly as the consumers'
pacts name it, and its steps (any step of the catalogue: HTTP calls to the provider's API, SQL,
messages ...) set the state up. The Background runs before each state. The state's parameters are
the variables of its steps (``{store}``, ``{sku}``), with ``{uid}`` fresh each time; what a state
remembers (``I remember the response JSON at "$.id" as "reservation_id"``) goes back to Pact, which
puts it into the replayed request wherever the consumer wrote ``the provider state gives
"reservation_id" like "..."``. The files live outside ``features/``, so a run never runs them as
scenarios; the pre-flight check still checks that every step they use exists.

Pact's verifier asks for states from its own threads; :class:`MainThread` carries each request over
to the behave step that runs the verification, so state steps run where every step runs.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from behave.parser import ParserError, parse_file

from crucible.errors import ContractError, TestDataError
from crucible.vocabulary.rest import RestSession
from crucible.vocabulary.variables import Variables

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 120.0


def state_file(folder: Path, provider: str) -> Path:
    """The file that holds a provider's states."""
    return folder / f"{provider}.feature"


def gherkin(step) -> str:
    """A parsed step written back as Gherkin text (with its docstring or table)."""
    lines = [f"{step.keyword} {step.name}"]
    if step.text is not None:
        lines += ['"""', *step.text.splitlines(), '"""']
    if step.table is not None:
        rows = [step.table.headings, *[row.cells for row in step.table.rows]]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


class States:
    """A provider's states, read from its state file."""

    def __init__(self, provider: str, path: Path):
        self.provider = provider
        self.path = path
        self.steps: dict[str, str] = {}
        if not path.is_file():
            return
        try:
            feature = parse_file(str(path))
        except ParserError as exc:
            raise TestDataError(f"The provider states of '{provider}' in {path} are not valid Gherkin: {exc}") from None
        background = [gherkin(step) for step in (feature.background.steps if feature.background else [])]
        for scenario in feature.scenarios:
            self.steps[scenario.name] = "\n".join(background + [gherkin(step) for step in scenario.steps])

    def text(self, state: str) -> str:
        """The steps of a state; a ContractError naming the file and the states it has when it is unknown."""
        if state not in self.steps:
            known = ", ".join(f"'{name}'" for name in self.steps) or "none"
            raise ContractError(f"A pact names the provider state '{state}' of '{self.provider}', which {self.path} "
                                f"does not set up (a scenario named exactly so). States there: {known}.")
        return self.steps[state]

    def set_up(self, context, state: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run a state's steps with its parameters as variables; return what they remembered."""
        steps = self.text(state)
        saved = context.variables, context.rest
        variables = context.variables = Variables(uuid.uuid4().hex[:8])
        context.rest = RestSession(context.http, context.auth)
        for name, value in (params or {}).items():
            variables.remember(name, value)
        listener = getattr(context, "listener", None)
        if listener is not None:
            listener.used.update(range(len(listener.received)))  # a message comes from this state, not earlier ones
        try:
            context.execute_steps(steps)
        except AssertionError as exc:
            raise ContractError(f"The provider state '{state}' of '{self.provider}' ({self.path}) could not be set "
                                f"up: {str(exc).splitlines()[0]} {_substep_info(str(exc))}") from None
        finally:
            context.variables, context.rest = saved
        return {name: value for name, value in variables.values.items() if name not in (params or {})}


def _substep_info(text: str) -> str:
    """The reason behave gives for a failed sub-step (without its traceback)."""
    info = text.split("Substep info:", 1)[1] if "Substep info:" in text else ""
    return "- " + info.split("Traceback (of failed substep)", 1)[0].strip().removeprefix("ASSERT FAILED: ") if info \
        else ""


class MainThread:
    """Runs calls made on other threads (Pact's callbacks) on the thread that serves them (the behave step)."""

    def __init__(self):
        self.calls: queue.Queue = queue.Queue()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """From another thread: run ``function(*args)`` on the serving thread and return its result."""
        reply: queue.Queue = queue.Queue(maxsize=1)
        self.calls.put((function, args, reply))
        ok, value = reply.get(timeout=CALL_TIMEOUT_S)
        if not ok:
            raise value
        return value

    def serve_while(self, worker: threading.Thread) -> None:
        """On the serving thread: run the calls that arrive until the worker has finished."""
        while worker.is_alive() or not self.calls.empty():
            try:
                function, args, reply = self.calls.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                reply.put((True, function(*args)))
            except Exception as exc:  # handed back to the caller, which reports it to Pact
                reply.put((False, exc))


class StateServer:
    """The state-change URL Pact's verifier calls before each interaction; answers with the state's values."""

    def __init__(self, set_up: Callable[[str, dict], dict], failures: dict[str, str]):
        relay_set_up, failed = set_up, failures

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                state, action = request.get("state") or "", request.get("action") or "setup"
                try:
                    values = relay_set_up(state, request.get("params") or {}) if state and action == "setup" else {}
                    self._answer(200, values)
                except Exception as exc:  # Pact reports the failed state change on the interaction
                    failed[state] = str(exc)
                    # 4xx, not 5xx: Pact's verifier retries a 5xx for two minutes, and setting up again won't help.
                    self._answer(422, {"error": str(exc)})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet: the report has what matters
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where Pact posts state changes."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/pact/state"

    def __enter__(self) -> "StateServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
