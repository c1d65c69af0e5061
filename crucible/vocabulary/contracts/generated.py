"""Generated requests: a property-based generator over a service's OpenAPI document, bounded in count and time.

schemathesis (on hypothesis) generates requests that the document allows for each of its operations
and checks every answer: no server error, a documented status, content type, headers and body. A
failure is shrunk by hypothesis to the smallest request that still fails; it is reported with that
request as a runnable ``curl`` line (the token left as ``$TOKEN``, so no credential reaches the
report) and the service's log lines that carry the request's ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import shlex
import time
import uuid
from dataclasses import dataclass, field

from datetime import datetime, timezone

import allure
import requests

from crucible import secrets
from crucible.errors import ContractViolation, TestDataError
from crucible.vocabulary.contracts.openapi import Contract, shown

log = logging.getLogger(__name__)

LOG_LINES = 20
SECRET_HEADERS = {"authorization": "Bearer $TOKEN", "cookie": "$COOKIE", "x-api-key": "$API_KEY"}
REQUEST_FIELDS = ("method", "url", "headers", "params", "data", "json", "cookies")
SHRINK_SHARE = 3  # a third of the budget is kept for shrinking a failure to its smallest request


@dataclass
class Finding:
    """One way the service broke its document, with the smallest request that shows it."""

    operation: str
    problem: str
    curl: str
    request_id: str
    status: int | None = None
    log_lines: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The finding as a person reads it: what, how to reproduce, what the service logged."""
        logs = "\n".join(f"      {line}" for line in self.log_lines) or "      (the service logged no line for it)"
        return (f"  {self.operation}: {self.problem}\n    reproduce: {self.curl}\n"
                f"    service log lines with X-Request-ID {self.request_id}:\n{logs}")


@dataclass
class Outcome:
    """What a bounded run of generated requests did and found."""

    service: str
    sent: int = 0
    operations: int = 0
    seconds: float = 0.0
    stopped_by_time: bool = False
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        """One line: how many requests, operations, seconds."""
        cut = " (stopped at the time limit)" if self.stopped_by_time else ""
        return (f"{self.sent} generated requests to {self.operations} operations of '{self.service}' in "
                f"{self.seconds:.1f}s{cut}")


def curl_line(request: requests.PreparedRequest) -> str:
    """A runnable curl command for a sent request, secrets replaced by shell variables."""
    parts = ["curl", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        if name.lower() in ("content-length", "accept-encoding", "connection", "user-agent", "accept",
                            "x-schemathesis-testcaseid"):
            continue
        shown_value = SECRET_HEADERS.get(name.lower(), value)
        parts += ["-H", f'"{name}: {shown_value}"' if "$" in shown_value else shlex.quote(f"{name}: {value}")]
    if request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        parts += ["--data-raw", shlex.quote(body)]
    return " ".join(parts)


class Generator:
    """Sends generated requests to one service and collects what breaks its document."""

    def __init__(self, contract: Contract, base_url: str, headers: dict[str, str], budget: int, max_time: float):
        self.contract = contract
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.budget = budget
        self.deadline = time.monotonic() + max_time
        self.outcome = Outcome(contract.service)
        self.session = requests.Session()

    def run(self) -> Outcome:
        """Generate, send and check requests for every documented operation, within the bounds."""
        import schemathesis  # a heavy import (hypothesis, rich): only when a step asks for generated requests

        started = time.monotonic()
        schema = schemathesis.openapi.from_dict(self.contract.document)
        operations = [result.ok() for result in schema.get_all_operations()]
        self.outcome.operations = len(operations)
        explore = max(1, (self.budget - self.budget // SHRINK_SHARE) // max(1, len(operations)))
        for operation in operations:
            if self._exhausted():
                break
            self._explore(operation, explore)
        self.outcome.seconds = time.monotonic() - started
        log.info("%s; %d finding(s)", self.outcome.summary(), len(self.outcome.findings))
        return self.outcome

    def _exhausted(self) -> bool:
        """True once the request budget or the time is used up."""
        if time.monotonic() >= self.deadline:
            self.outcome.stopped_by_time = True
            return True
        return self.outcome.sent >= self.budget

    def _explore(self, operation, examples: int) -> None:
        """Let hypothesis generate up to ``examples`` requests for one operation and shrink the first failure."""
        from hypothesis import HealthCheck, Phase, given, settings

        label = f"{operation.method.upper()} {operation.path}"
        last_failure: list[Finding] = []

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink))
        @given(case=operation.as_strategy())
        def probe(case) -> None:
            if self._exhausted():
                return
            self.outcome.sent += 1
            request_id = f"crucible-generated-{uuid.uuid4().hex[:12]}"
            try:
                response = case.call(base_url=self.base_url, session=self.session,
                                     headers={**self.headers, "X-Request-ID": request_id})
            except requests.RequestException as exc:
                sent = case.as_transport_kwargs(self.base_url, {**self.headers, "X-Request-ID": request_id})
                request = requests.Request(**{k: v for k, v in sent.items() if k in REQUEST_FIELDS}).prepare()
                last_failure[:] = [Finding(label, f"no answer (did it crash?): {type(exc).__name__}",
                                           curl_line(request), request_id)]
                raise
            try:
                case.validate_response(response, checks=checks())
            except BaseException as failure:  # schemathesis raises a BaseExceptionGroup, which hypothesis won't shrink
                last_failure[:] = [Finding(label, describe(failure, response), curl_line(response.request),
                                           request_id, response.status_code)]
                raise Broken(last_failure[0].problem) from None

        try:
            probe()
        except (Broken, requests.RequestException):  # raised by the smallest failing request, replayed last
            self.outcome.findings.append(last_failure[0])


class Broken(Exception):
    """A generated request's answer broke the document (an Exception, so hypothesis shrinks the request)."""


def checks() -> list:
    """The checks every generated answer must pass: no server error, and the documented status, type and shape."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                                   response_schema_conformance, status_code_conformance)
    return [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
            response_schema_conformance]


def describe(failure: Exception, response: requests.Response) -> str:
    """A schemathesis failure (or group of them) in one or two lines, with the status and the body."""
    failures = getattr(failure, "exceptions", None) or [failure]
    def one(failure: BaseException) -> str:
        title = getattr(failure, "title", type(failure).__name__)
        words = secrets.shortened(" ".join(str(getattr(failure, "message", "") or "").split()), 300, "")
        return f"{title}: {words}" if words else title
    titles = "; ".join(dict.fromkeys(one(f) for f in failures))
    try:
        body = shown(response.json())
    except ValueError:
        body = shown(response.text)
    return f"{titles} (answered {response.status_code} {body})"


def expect_kept(context, service: str, budget: int) -> Outcome:
    """Send up to ``budget`` generated requests to a service with the scenario's standing headers; fail naming
    every way it broke its document, with the smallest reproducing request and the service's log lines."""
    if budget < 1:
        raise TestDataError(f"Generated requests: the count must be at least 1, not {budget}.")
    contract = context.contracts.contract(service)
    options = context.settings
    started = datetime.now(timezone.utc)
    outcome = Generator(contract, context.stack.http_url(service, options.service(service).get("port")),
                        context.rest.headers_for(service), budget, options["contracts.generated_max_time"]).run()
    allure.attach(outcome.summary(), name=f"Generated requests to {service}", attachment_type=allure.attachment_type.TEXT)
    if not outcome.findings:
        return outcome
    logs = context.stack.logs(since=started).get(service, "")
    for finding in outcome.findings:
        finding.log_lines = [line for line in logs.splitlines() if finding.request_id in line][-LOG_LINES:]
        allure.attach(finding.render(), name=f"{finding.operation}: smallest failing request",
                      attachment_type=allure.attachment_type.TEXT)
    raise ContractViolation(f"'{service}' broke its OpenAPI document under generated requests ({outcome.summary()}):\n"
                            + "\n".join(finding.render() for finding in outcome.findings))
