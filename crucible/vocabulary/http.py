"""A thin HTTP client whose every exchange is recorded and attached to the current Allure step."""

from __future__ import annotations

import json
import re
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from crucible import secrets
from crucible.errors import HttpError, TestDataError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
MASK = secrets.MASK
# Header names, JSON fields and query parameters whose values are never shown.
SECRET_NAME = re.compile(r"(?i)password|passwd|passphrase|secret|token|api[-_]?key|credential|private[-_]?key|"
                         r"session|cookie|authorization|^(pan|cvv|cvc|card_number)$")
CARD_NUMBER = secrets.CARD_NUMBER


@dataclass
class Exchange:
    """One request and its response, secrets masked, ready to show a person."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any
    elapsed_ms: float
    service: str = ""
    # The raw response (and through it the request), unmasked: for checks, never shown.
    response: requests.Response | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        """A short name, e.g. ``POST /orders -> 201``."""
        path = "/" + self.url.split("/", 3)[-1] if self.url.count("/") >= 3 else self.url
        return f"{self.method} {path} -> {self.status}"

    def render(self) -> str:
        """The exchange as readable text."""
        def headers(h: dict[str, str]) -> str:
            return "\n".join(f"{k}: {v}" for k, v in h.items())

        def body(b: Any) -> str:
            if b is None or b == "":
                return "(no body)"
            return json.dumps(b, indent=2, ensure_ascii=False) if not isinstance(b, str) else b

        return (f"{self.method} {self.url}\n{headers(self.request_headers)}\n\n{body(self.request_body)}\n\n"
                f"--- {self.status} ({self.elapsed_ms:.0f} ms)\n{headers(self.response_headers)}\n\n"
                f"{body(self.response_body)}\n")


def mask_card_numbers(text: str) -> str:
    """Replace every card-number-shaped run of 12-19 digits (spaces or dashes allowed) but its last four."""
    def hide(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "*" * (len(digits) - 4) + digits[-4:] if 12 <= len(digits) <= 19 else match.group(0)
    return CARD_NUMBER.sub(hide, text)


def mask_text(text: str) -> str:
    """Text with card-number-shaped runs, JWTs, tokens, passwords (``key=...``, URLs) and the run's secrets hidden."""
    return secrets.mask(mask_card_numbers(text))


def mask(value: Any) -> Any:
    """Replace secret-looking JSON fields, card numbers, tokens and passwords with a mask, recursively."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_NAME.search(str(k)) and value[k] not in (None, "") else mask(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and 12 <= len(str(abs(value))) <= 19:
        return mask_card_numbers(str(value))
    return value


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """Replace the values of secret headers (Authorization, cookies, API keys, tokens) with a mask; hide
    tokens and card numbers in the others."""
    return {k: MASK if SECRET_NAME.search(k) and k.lower() != "www-authenticate" else mask_text(v)
            for k, v in headers.items()}


def mask_url(url: str) -> str:
    """A URL with its password, secret query parameters, tokens and card numbers hidden."""
    parts = urlsplit(url)
    query = "&".join(f"{name}={MASK}" if SECRET_NAME.search(unquote(name)) else f"{name}={value}" if sep else name
                     for name, sep, value in (item.partition("=") for item in parts.query.split("&") if item))
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
    return mask_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def mask_body(data: str) -> Any:
    """A raw request body: masked as JSON if it is JSON, else as text."""
    try:
        return json.dumps(mask(json.loads(data)))
    except ValueError:
        return mask_text(data)


def body_of(response: requests.Response) -> Any:
    """The response body as JSON if it is JSON, else text."""
    try:
        return response.json()
    except ValueError:
        return response.text


class HttpClient:
    """Verb methods over one ``_request``, bound to one service's base URL."""

    def __init__(self, service: str, base_url: str, record: Callable[[Exchange], None] | None = None,
                 headers: Callable[[], dict[str, str]] | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.record = record
        self.headers = headers or dict
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request with any method (``json=`` for a JSON body, ``data=`` for raw text)."""
        return self._request(method.upper(), path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """Send a GET request."""
        return self._request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs) -> requests.Response:
        """Send a POST request with a JSON body."""
        return self._request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs) -> requests.Response:
        """Send a PUT request with a JSON body."""
        return self._request("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        """Send a DELETE request."""
        return self._request("DELETE", path, **kwargs)

    def at_once(self, method: str, path: str, times: int, **kwargs) -> list[requests.Response]:
        """The same request ``times`` times at the same moment: each from its own thread and connection, the
        threads released together; the answers in the order they arrived. The exchanges are recorded afterwards,
        in the caller's thread (where the report's current step is), in that order."""
        if times < 1:
            raise TestDataError(f"a request is sent at least once, not {times} times")
        exchanges: list[Exchange] = []
        senders = [HttpClient(self.service, self.base_url, record=exchanges.append, headers=self.headers,
                              timeout=self.timeout) for _ in range(times)]
        start = threading.Barrier(times)

        def send(sender: HttpClient) -> tuple[float, requests.Response]:
            start.wait(timeout=10)
            response = sender.request(method, path, **kwargs)
            return time.monotonic(), response

        with ThreadPoolExecutor(max_workers=times) as pool:
            answered = [future.result() for future in [pool.submit(send, sender) for sender in senders]]
        order = sorted(range(times), key=lambda i: answered[i][0])
        if self.record:
            by_response = {id(exchange.response): exchange for exchange in exchanges}
            for i in order:
                self.record(by_response[id(answered[i][1])])
        return [answered[i][1] for i in order]

    def _request(self, method: str, path: str, *, json: Any = None, data: str | None = None,
                 headers: dict[str, str] | None = None, params: dict[str, str] | None = None,
                 timeout: float | None = None) -> requests.Response:
        """Send one request with an explicit timeout, record the exchange, return the response."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        sent_headers = {**self.headers(), **(headers or {})}
        if data is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        try:
            response = self.session.request(method, url, json=json, data=data, headers=sent_headers,
                                            params=params, timeout=timeout or self.timeout)
        except requests.Timeout:
            raise HttpError(f"{method} {url} to service '{self.service}' got no answer within "
                            f"{timeout or self.timeout:.0f}s") from None
        except requests.ConnectionError as exc:
            raise HttpError(f"{method} {url}: cannot connect to service '{self.service}': "
                            f"{secrets.shortened(str(exc), 200)}") from None
        if self.record:
            self.record(Exchange(
                method=method, url=mask_url(response.request.url),
                request_headers=mask_headers(dict(response.request.headers)),
                request_body=mask(json) if data is None else mask_body(data), status=response.status_code,
                response_headers=mask_headers(dict(response.headers)),
                response_body=mask(body_of(response)),
                elapsed_ms=response.elapsed.total_seconds() * 1000,
                service=self.service, response=response,
            ))
        return response
