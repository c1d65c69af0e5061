"""Steps for the harness's own reliability tests (not part of the product vocabulary)."""

import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

from behave import given, then, when

log = logging.getLogger("crucible.test")


@given("the stack is up")
def step_stack_up(context):
    """Example: Given the stack is up"""
    assert context.stack.state("app") == "running"


@when("a step takes {seconds:g} seconds")
def step_takes(context, seconds):
    """Example: When a step takes 2 seconds"""
    log.warning("STEP-RUNNING for %.1fs", seconds)
    time.sleep(seconds)


@then('the service "{service}" is running')
def step_service_running(context, service):
    """Example: Then the service "app" is running"""
    state = context.stack.state(service)
    assert state == "running", f"expected {service} to be running, but it is {state}"


@then('the service "{service}" has a URL')
def step_service_url(context, service):
    """Example: Then the service "app" has a URL"""
    context.stack.url(service)


@then("{count:d} apples are {more:d} apples")
def step_apples(context, count, more):
    """Example: Then 2 apples are 2 apples"""
    assert count == more, f"expected {count} apples to be {more} apples"


@then('the flip-flop in "{path}" is up')
def step_flip_flop(context, path):
    """Example: Then the flip-flop in "/tmp/flip" is up  (fails and passes on alternate runs)"""
    state = Path(path)
    up = not state.exists()
    if up:
        state.write_text("up")
    else:
        state.unlink()
    assert up, f"the flip-flop in {path} was down"


@when('the service "{service}" restarts')
def step_service_restarts(context, service):
    """Example: When the service "app" restarts  (stopped with a 1 s grace period, then started again)"""
    context.stack.stop_service(service, timeout=1)
    context.stack.start_service(service)


@then('the service "{service}" is reached at "{host}"')
def step_service_reached_at(context, service, host):
    """Example: Then the service "app" is reached at "127.0.0.1\""""
    url = context.stack.url(service)
    assert urlsplit(url).hostname == host, f"expected {service} to be reached at {host}, but its URL is {url}"


@then('the logs of "{service}" say "{text}"')
def step_logs_say(context, service, text):
    """Example: Then the logs of "store" say "store booting\""""
    logs = context.stack.logs()[service]
    assert text in logs, f"expected the logs of {service} to say {text!r}, but they are: {logs[-500:]!r}"
