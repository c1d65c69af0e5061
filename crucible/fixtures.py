"""behave fixtures: the stack for the whole run, and a fresh scope for each scenario."""

from __future__ import annotations

import logging
import signal
import uuid
from datetime import datetime, timezone
from pathlib import Path

import allure
from behave import fixture
from behave.model_core import Status

from crucible import console, engine, report, session
from crucible.http import Exchange, HttpClient
from crucible.shop import Names, Shop
from crucible.timings import Timings

log = logging.getLogger(__name__)

DEFAULT_RESULTS = "reports/allure-results"


def _terminate(signum, frame):
    """Turn SIGTERM into KeyboardInterrupt so behave's cleanups remove the stack."""
    raise KeyboardInterrupt(f"signal {signum}")


@fixture
def crucible_stack(context):
    """Bring the stack up before the first feature and remove it after the last."""
    console.setup()
    signal.signal(signal.SIGTERM, _terminate)
    timings = Timings()
    userdata = context.config.userdata
    path = session.compose_path(userdata.get("compose"))
    client, project, image_ids = session.prepare(path, timings)
    stack = session.start(client, project, timings)
    try:
        urls = stack.urls()
        for name, url in urls.items():
            log.info("  %-12s %s", name, url)
        results = Path(userdata.get("allure_results", DEFAULT_RESULTS))
        report.write_environment(results, _environment(client, stack, image_ids))
        context.stack = stack
        with timings.phase("scenarios"):
            yield stack
    finally:
        with timings.phase("teardown"):
            removed = stack.down()
        log.info("Removed %d containers/networks/volumes of run %s", removed, stack.run_id)
        log.info(timings.summary())


def _environment(client, stack, image_ids: dict[str, str]) -> dict[str, str]:
    """What the report shows under Environment: engine, run id, each service's image."""
    version = client.version()
    props = {
        "run.id": stack.run_id,
        "project": stack.project.name,
        "compose.file": str(stack.project.path),
        "engine.version": f"Docker {version.get('Version')} (API {version.get('ApiVersion')})",
        "engine.host": engine.host(client),
    }
    for name, image_id in sorted(image_ids.items()):
        props[f"service.{name}.image"] = f"{stack.project.services[name].image} {image_id[7:19]}"
    return props


@fixture
def scenario_scope(context, scenario):
    """Unique names, a correlation id and recorded HTTP clients for one scenario."""
    uid = uuid.uuid4().hex[:8]
    context.correlation_id = f"crucible-{uid}"
    context.started_at = datetime.now(timezone.utc)
    context.exchanges = []
    counter = iter(range(1, 1_000_000))

    def headers() -> dict[str, str]:
        return {"X-Request-ID": f"{context.correlation_id}-{next(counter):03d}"}

    def record(exchange: Exchange) -> None:
        context.exchanges.append(exchange)
        allure.attach(exchange.render(), name=exchange.title, attachment_type=allure.attachment_type.TEXT)

    clients: dict[str, HttpClient] = {}

    def http(service: str) -> HttpClient:
        if service not in clients:
            clients[service] = HttpClient(service, context.stack.url(service), record=record, headers=headers)
        return clients[service]

    context.http = http
    context.names = Names(uid)
    context.shop = Shop(http, context.names)
    yield
    if scenario.status in (Status.failed, Status.error, Status.hook_error):
        attach_service_logs(context)


def attach_service_logs(context) -> None:
    """Attach every service's logs since the scenario began, correlated lines first."""
    logs = context.stack.logs(since=context.started_at)
    marker = context.correlation_id
    correlated = [f"[{name}] {line}" for name, text in logs.items()
                  for line in text.splitlines() if marker in line]
    if correlated:
        allure.attach("\n".join(correlated), name=f"Log lines with correlation id {marker}",
                      attachment_type=allure.attachment_type.TEXT)
    for name, text in logs.items():
        allure.attach(text or "(no output since the scenario began)", name=f"{name} logs",
                      attachment_type=allure.attachment_type.TEXT)
