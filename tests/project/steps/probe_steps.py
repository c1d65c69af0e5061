"""Steps for the harness's own reliability tests (not part of the product vocabulary)."""

import logging
import time
from pathlib import Path

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
