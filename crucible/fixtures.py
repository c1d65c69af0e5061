"""behave fixtures: the stack for the whole run, and a fresh scope for each scenario."""

from __future__ import annotations

import logging
import os
import time
import uuid
from datetime import datetime, timezone

from behave import fixture

from crucible import console, secrets, settings, signals
from crucible.errors import CrucibleError, EngineUnavailable
from crucible.parallel.claims import WORKER_ENV
from crucible.report import flaky
from crucible.report import results as report
from crucible.stack import engine, session
from crucible.timings import Timings
from crucible.vocabulary import evidence, preflight, settings_check
from crucible.vocabulary.auth import Auth
from crucible.vocabulary.contracts import provider
from crucible.vocabulary.contracts.provider import ProviderContracts
from crucible.vocabulary.http import Exchange, HttpClient
from crucible.vocabulary.rest import RestSession
from crucible.vocabulary.security.audit import Audit
from crucible.vocabulary.variables import Variables

# seconds the failed step's evidence waits for a service's log line with the scenario's correlation id
LOG_GRACE_S = 2.0
log = logging.getLogger(__name__)


@fixture
def crucible_stack(context):
    """Bring the stack up before the first feature and remove it after the last.

    With the setting ``run.attach`` (``-D attach=kept`` or a run id, or $CRUCIBLE_RUN_ATTACH) the run
    uses a stack that ``crucible up`` left running and leaves it running.
    """
    console.setup()
    console.mask_streams()
    signals.install()
    context.on_cleanup_error = _cleanup_error
    timings = Timings()
    options = settings.load(context.config.userdata)
    context.settings = options
    project = session.load_project(options)
    settings_check.check(options, project)  # before anything starts: `behave` run directly checks them too
    context.secrets = secrets.use(secrets.of_project(project, options))
    worker = WORKER_ENV in os.environ  # one of a run's workers: the coordinator owns and checked the stack
    client, image_ids, stack, owned = session.open_stack(project, options["run.attach"], options["run.refresh"],
                                                         timings, check_fresh=not worker)
    contracts = None
    try:
        for name, url in stack.urls().items():
            log.info("  %-12s %s", name, url)
        report.write_environment(options.path("report.results"), _environment(client, stack, image_ids))
        context.stack = stack
        contracts = context.contracts = ProviderContracts.load(options, stack)
        context.audit = Audit.start(stack, options, context.secrets)
        with timings.phase("scenarios"):
            yield stack
    finally:
        if contracts is not None:
            contracts.write(options.path("report.results"))
        tap = getattr(getattr(context, "audit", None), "tap", None)
        if not owned and tap is not None and not worker:
            tap.remove()  # the kept stack stays; the audit's queue of this run goes (workers share it: not theirs)
        session.close_stack(stack, owned, timings)
        log.info(timings.summary())


def _cleanup_error(context, cleanup, exc: Exception) -> None:
    """Report a harness error during clean-up as one paragraph; anything else as behave does."""
    if isinstance(exc, CrucibleError):
        log.error("%s: %s", type(exc).__name__, exc)
    else:
        context.print_cleanup_error(context, cleanup, exc)


def step_finished(context, step) -> None:
    """After each step: attach a failed step's evidence; stop the run if the engine is gone."""
    attach_failed_step(context, step)
    if isinstance(step.exception, EngineUnavailable):
        context.abort(reason="the Docker engine stopped answering (see the message above)")


def _environment(client, stack, image_ids: dict[str, str]) -> dict[str, str]:
    """What the report shows under Environment: engine, run id, each service's image."""
    version = client.version()
    props = {
        "run.id": stack.run_id,
        "project": stack.project.name,
        "compose.file": ", ".join(map(str, stack.project.files or (stack.project.path,))),
        "engine.version": f"Docker {version.get('Version')} (API {version.get('ApiVersion')})",
        "engine.address": engine.address(client).url,
        "engine.host": stack.host,
    }
    for name, image_id in sorted(image_ids.items()):
        props[f"service.{name}.image"] = f"{stack.project.services[name].image} {image_id.removeprefix('sha256:')[:12]}"
    return props


@fixture
def feature_scope(context, feature):
    """Opt-in retry (setting ``run.retry``, ``-D retry=1``): a failed scenario runs again, late passes are flaky."""
    retries = context.settings["run.retry"]
    if retries > 0:
        flaky.enable_retry(feature, attempts=retries + 1)
    yield


@fixture
def scenario_scope(context, scenario):
    """A unique id, a correlation id, recorded HTTP clients and variables for one scenario.

    The scenario's steps are checked first (an impossible load, a fault on an unknown service):
    a wrong one stops the scenario before any of its steps starts anything.
    """
    documents = getattr(getattr(context, "contracts", None), "contracts", None)
    preflight.check_scenario(scenario, preflight.Scope(context.stack.project, context.settings, documents),
                             context._runner.step_registry)
    uid = uuid.uuid4().hex[:8]
    context.uid = uid
    context.correlation_id = f"crucible-{uid}"
    context.started_at = datetime.now(timezone.utc)
    context.exchanges = []
    context.failure_logs = None
    counter = iter(range(1, 1_000_000))

    def headers() -> dict[str, str]:
        return {"X-Request-ID": f"{context.correlation_id}-{next(counter):03d}"}

    enforce = provider.enforced(context.settings, scenario)

    def record(exchange: Exchange) -> None:
        context.exchanges.append(exchange)
        if getattr(context, "audit", None) is not None:
            # what the unmasked answer held (kinds only, never values), for the data-flow audit
            context.audit.saw_answer(exchange.service, exchange.title, context.secrets.kinds(exchange.response.text),
                                     scenario.name)
        evidence.attach(context, exchange.render(), exchange.title)
        verdict = context.contracts.check(exchange.service, exchange.response, enforce)
        if verdict is not None and verdict.deliberate:
            evidence.attach(context, verdict.note(), f"{exchange.title}: request outside the document (recorded)")

    clients: dict[tuple[str, str], HttpClient] = {}
    options = context.settings

    def http(service: str) -> HttpClient:
        # looked up each time: a restarted service has a new host port
        url = context.stack.http_url(service, options.service(service).get("port"))
        if (service, url) not in clients:
            clients[service, url] = HttpClient(service, url, record=record, headers=headers,
                                               timeout=options["timeouts.http"])
        return clients[service, url]

    context.http = http
    context.auth = Auth(options, context.stack.project)
    context.variables = Variables(uid)
    context.rest = RestSession(http, context.auth)
    yield
    if scenario.status.has_failed():
        attach_service_logs(context)


def _logs_since_start(context) -> dict[str, str]:
    """Every service's logs since the scenario began, read from the engine once per failed scenario."""
    if getattr(context, "failure_logs", None) is None:
        context.failure_logs = context.stack.logs(since=context.started_at)
    return context.failure_logs


def attach_service_logs(context) -> None:
    """Attach every service's logs since the scenario began (the failed step has the correlated lines)."""
    for name, text in _logs_since_start(context).items():
        evidence.attach(context, text or "(no output since the scenario began)", f"{name} logs")


def _correlated_lines(context, marker: str) -> list[str]:
    """The log lines of every service that carry the scenario's correlation id.

    A service often logs a request after it has answered, and the engine's log lags behind on a busy
    machine: when the scenario sent requests but no line carries the id yet, the logs are read again for
    up to LOG_GRACE_S seconds, so the evidence does not depend on the machine's load.
    """
    deadline = time.monotonic() + LOG_GRACE_S
    while True:
        lines = [f"[{name}] {line}" for name, text in _logs_since_start(context).items()
                 for line in text.splitlines() if marker in line]
        if lines or not getattr(context, "exchanges", None) or time.monotonic() >= deadline:
            return lines
        time.sleep(0.25)
        context.failure_logs = None  # read them again


def attach_failed_step(context, step) -> None:
    """On a failed or broken step, attach its evidence to it: the last exchange and the correlated log lines."""
    seen, context.exchange_mark = getattr(context, "exchange_mark", 0), len(getattr(context, "exchanges", []))
    if not step.status.has_failed() or not hasattr(context, "correlation_id"):
        return
    try:
        if context.exchanges and seen == len(context.exchanges):
            last = context.exchanges[-1]
            evidence.attach(context, last.render(), f"{last.title} (the exchange this step checked)")
        marker = context.correlation_id
        lines = _correlated_lines(context, marker)
        evidence.attach(context, "\n".join(lines) or f"(no service logged a line with {marker})",
                        f"Service log lines with correlation id {marker}")
    except Exception:  # evidence is best effort: it must never turn a failure into a hook error
        log.warning("could not attach evidence to the failed step %r", step.name, exc_info=True)
