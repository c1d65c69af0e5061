"""Generic HTTP calls for the step vocabulary: any service, method, path, headers and query.

One :class:`RestSession` per scenario keeps the headers to send with every request and the last
response, which the status, header and JSON assertions then look at.
"""

from __future__ import annotations

import logging
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from hamcrest.core.matcher import Matcher

from crucible.vocabulary import polling
from crucible.vocabulary.auth import Auth
from crucible.errors import TestDataError
from crucible.vocabulary.http import HttpClient, body_of
from crucible.vocabulary.matchers import failure, render

log = logging.getLogger(__name__)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NO_BODY = object()


def describe(response: requests.Response, with_body: bool = True) -> str:
    """A response in one line: ``GET /stock/north/mug -> 404 {"error": "stock not found"}``."""
    request = response.request
    parts = urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    line = f"{request.method} {target} -> {response.status_code}"
    return f"{line} {render(body_of(response))}" if with_body else line


class RestSession:
    """The generic HTTP state of one scenario: standing headers and the last response.

    A request carries the service's configured credentials (:meth:`Auth.headers`), then the headers the
    scenario's steps set (a signed token, a header), which win.
    """

    def __init__(self, http: Callable[[str], HttpClient], auth: Auth | None = None):
        self.http = http
        self.auth = auth
        self.headers: dict[str, str] = {}
        self.last: requests.Response | None = None
        self.responses: list[requests.Response] = []

    def headers_for(self, service: str) -> dict[str, str]:
        """The headers every request to a service carries: its credentials, then the scenario's own."""
        return {**(self.auth.headers(service) if self.auth else {}), **self.headers}

    def authenticate(self, subject: str, role: str) -> str:
        """Send a freshly signed bearer token for ``subject``/``role`` from now on; return it."""
        if self.auth is None:
            raise TestDataError("This scenario has no authentication settings to sign a token with.")
        token = self.auth.token(subject, role)
        self.headers["Authorization"] = f"Bearer {token}"
        return token

    def set_header(self, name: str, value: str) -> None:
        """Send a header with every following request of the scenario."""
        self.headers[name] = value

    def send(self, method: str, service: str, path: str, body: Any = NO_BODY,
             params: dict[str, str] | None = None, raw: str | None = None) -> requests.Response:
        """Send one request to a service by its compose name; it becomes the last response."""
        verb = method.upper()
        if verb not in METHODS:
            raise TestDataError(f"HTTP method '{method}' is not supported; use one of: {', '.join(METHODS)}.")
        client = self.http(service)
        kwargs: dict[str, Any] = {"headers": self.headers_for(service), "params": params or None}
        if body is not NO_BODY:
            kwargs["json"] = body
        if raw is not None:
            kwargs["data"] = raw
        self.last = client.request(verb, path, **kwargs)
        log.debug("%s", describe(self.last))
        return self.last

    def send_at_once(self, method: str, service: str, path: str, times: int,
                     body: Any = NO_BODY) -> list[requests.Response]:
        """The same request ``times`` times at the same moment (see ``HttpClient.at_once``); the last to arrive
        becomes the last response, all of them ``responses``."""
        verb = method.upper()
        if verb not in METHODS:
            raise TestDataError(f"HTTP method '{method}' is not supported; use one of: {', '.join(METHODS)}.")
        kwargs: dict[str, Any] = {"headers": dict(self.headers)}
        if body is not NO_BODY:
            kwargs["json"] = body
        self.responses = self.http(service).at_once(verb, path, times, **kwargs)
        self.last = self.responses[-1]
        return self.responses

    def expect_every_status(self, status: int) -> None:
        """Fail unless every response of the last requests sent at once has this status."""
        if not self.responses:
            raise TestDataError("No requests were sent at the same moment in this scenario: a step such as "
                                "'When I send a POST request to \"orders\" at \"/orders\" 2 times at the same "
                                "moment with JSON:' must come first.")
        wrong = [r for r in self.responses if r.status_code != status]
        assert not wrong, (f"expected each of the {len(self.responses)} responses to have status {status}, but "
                           f"{len(wrong)} did not:\n" + "\n".join(describe(r) for r in wrong))

    def response(self) -> requests.Response:
        """The last response, or a TestDataError if the scenario has sent no request."""
        if self.last is None:
            raise TestDataError("No HTTP request has been sent in this scenario yet: a step such as "
                                "'When I send a GET request to \"orders\" at \"/orders/{id}\"' must come first.")
        return self.last

    def json(self) -> Any:
        """The last response's body as JSON; fails if it is not JSON."""
        response = self.response()
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type") or "no Content-Type"
            raise AssertionError(f"expected a JSON body but got {kind}\n{describe(response)}") from None

    def header(self, name: str) -> str:
        """A header of the last response; fails naming the headers there are if it is missing."""
        response = self.response()
        if name not in response.headers:
            raise AssertionError(f"expected a '{name}' header but the response has: {', '.join(response.headers)}"
                                 f"\n{describe(response)}")
        return response.headers[name]

    def expect_status(self, status: int) -> None:
        """Fail unless the last response has this status."""
        response = self.response()
        assert response.status_code == status, expected_status(status, response)

    def expect_json(self, matcher: Matcher) -> None:
        """Fail unless the last response's JSON body satisfies a matcher."""
        json_satisfies(matcher)(self.response())

    def expect_header(self, name: str, matcher: Matcher) -> None:
        """Fail unless a header of the last response satisfies a matcher."""
        value = self.header(name)
        if not matcher.matches(value):
            raise AssertionError(failure(matcher, value, f"the response to {describe(self.response(), False)}",
                                         what=f"header '{name}'"))

    def poll(self, method: str, service: str, path: str, check: Callable[[requests.Response], None],
             timeout: float) -> requests.Response:
        """Send a request again and again until ``check`` passes on its response, or time runs out."""
        return polling.eventually(lambda: self.send(method, service, path), check, timeout, describe=describe)

    def hold(self, method: str, service: str, path: str, check: Callable[[requests.Response], None],
             duration: float) -> requests.Response:
        """Send a request again and again for ``duration`` seconds; ``check`` must pass on every response."""
        return polling.throughout(lambda: self.send(method, service, path), check, duration, describe=describe)


def expected_status(status: int, response: requests.Response) -> str:
    """The failure of a status check: what differs first, then the exchange (its body may hold ports and ids)."""
    return f"expected status {status} but got {response.status_code}\n{describe(response)}"


def status_is(status: int) -> Callable[[requests.Response], None]:
    """A check for :meth:`RestSession.poll`: the response has this status."""
    def check(response: requests.Response) -> None:
        assert response.status_code == status, expected_status(status, response)
    return check


def json_satisfies(matcher: Matcher) -> Callable[[requests.Response], None]:
    """A check for :meth:`RestSession.poll`: the response's JSON body satisfies a matcher."""
    def check(response: requests.Response) -> None:
        body = body_of(response)
        if not matcher.matches(body):
            raise AssertionError(failure(matcher, body, f"the JSON body of {describe(response, with_body=False)}"))
    return check
