"""Load: many clients at once against a service of the stack, judged by thresholds like k6's, in sentences.

A load step sends real requests from N clients at once to a service by its compose name (its
published port on 127.0.0.1), each client sending its next request as soon as its last one was
answered, for the given time (at most the setting load.max_seconds; at most load.max_requests
requests). Every request carries its own X-Request-ID (the scenario's correlation id plus a
number), and the scenario's standing headers (e.g. a token from "I am authenticated as ...").
A request fails when it gets no answer or an answer with a status of 400 or more.

The step gets a chart of every request's response time over the load, a chart of the
throughput, the table of exact percentiles (every latency is kept) per operation, and each
container's CPU and memory sampled through the engine meanwhile. The threshold steps that
follow judge the latest load; a broken threshold names the measured value and the correlation
ids of the slowest or failed requests, so their log lines can be found. An impossible load (0
clients, a duration of 0 or less, a percentage that is not one) is refused before anything starts.
"""

from behave import register_type, then, when
from parse import with_pattern

from crucible.vocabulary.load import checks, runner, thresholds
from crucible.vocabulary.preflight import checked
from crucible.vocabulary.variables import docstring_json, templated


@with_pattern(r"-?\d+(?:\.\d+)?%")
def percent(text: str) -> float:
    """``1%`` -> 1.0, ``99.5%`` -> 99.5."""
    return float(text[:-1])


@with_pattern(r"\d+(?:\.\d+)?(?:st|nd|rd|th)")
def ordinal(text: str) -> float:
    """``99th`` -> 99.0, ``99.9th`` -> 99.9."""
    return float(text[:-2])


register_type(Percent=percent, Ordinal=ordinal)


@when('{clients:d} clients send {method:w} requests to "{service}" at "{path}" for {seconds:g} seconds')
@checked(checks.load)
@templated
def step_load(context, clients, method, service, path, seconds):
    """Example: When 20 clients send GET requests to "inventory" at "/availability/{sku}" for 10 seconds"""
    runner.http_load(context, clients, method, service, path, seconds)


@when('{clients:d} clients send {method:w} requests to "{service}" at "{path}" for {seconds:g} seconds with JSON:')
@checked(checks.load)
@templated
def step_load_json(context, clients, method, service, path, seconds):
    """Example: When 5 clients send POST requests to "inventory" at "/stock/{store}/{sku}/restock" for 3 seconds with JSON:
        {"quantity": 1}
    """
    runner.http_load(context, clients, method, service, path, seconds, body=docstring_json(context))


@then("the {p:Ordinal} percentile response time is under {ms:g} ms")
@checked(checks.percentile)
@templated
def step_percentile(context, p, ms):
    """Example: Then the 99th percentile response time is under 500 ms"""
    thresholds.expect_percentile_under(runner.latest(context), p, ms)


@then("the median response time is under {ms:g} ms")
@checked(lambda scope, ms: checks.percentile(scope, 50, ms))
@templated
def step_median(context, ms):
    """Example: Then the median response time is under 100 ms"""
    thresholds.expect_percentile_under(runner.latest(context), 50, ms)


@then("{share:Percent} of the requests are answered within {ms:g} ms")
@checked(checks.share)
@templated
def step_share_within(context, share, ms):
    """Example: Then 95% of the requests are answered within 300 ms

    A request that failed counts as not answered.
    """
    thresholds.expect_share_within(runner.latest(context), share, ms)


@then("fewer than {share:Percent} of the requests fail")
@checked(checks.share)
@templated
def step_failures_below(context, share):
    """Example: Then fewer than 1% of the requests fail"""
    thresholds.expect_failures_below(runner.latest(context), share)


@then("at least {rate:g} requests per second are answered")
@checked(checks.rate)
@templated
def step_rate(context, rate):
    """Example: Then at least 50 requests per second are answered"""
    thresholds.expect_rate_at_least(runner.latest(context), rate)
