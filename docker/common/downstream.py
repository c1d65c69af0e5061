"""HTTP calls to other services: service token, X-Request-ID and optional Idempotency-Key on every call."""
import logging
import threading
import time

import requests
from urllib3.exceptions import ProtocolError

from auth import service_token
from service import current_request_id, log_event

_sessions = threading.local()


class Unavailable(Exception):
    """The downstream service could not be reached, timed out or answered 5xx."""


class Downstream:
    """A named downstream service at base_url with a per-call timeout in seconds."""

    def __init__(self, name, base_url, timeout):
        self.name, self.base_url, self.timeout = name, base_url.rstrip("/"), timeout

    def call(self, method, path, json=None, idempotency_key=None):
        """Send the request; return the response for 2xx-4xx, raise Unavailable otherwise."""
        session = getattr(_sessions, "session", None)
        if session is None:
            session = _sessions.session = requests.Session()
        headers = {"X-Request-ID": current_request_id() or "", "Authorization": f"Bearer {service_token()}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        started = time.monotonic()
        try:
            response = self._send(session, method, path, json=json, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            log_event(logging.WARNING, f"{self.name} unreachable", downstream=self.name, method=method,
                      path=path, error=type(exc).__name__, detail=str(exc)[:200],
                      duration_ms=round((time.monotonic() - started) * 1000, 1))
            raise Unavailable(f"{self.name} unreachable: {type(exc).__name__}") from None
        log_event(logging.INFO, "downstream call", downstream=self.name, method=method, path=path,
                  status=response.status_code, duration_ms=round((time.monotonic() - started) * 1000, 1))
        if response.status_code >= 500:
            raise Unavailable(f"{self.name} answered {response.status_code}")
        if response.status_code in (401, 403):
            log_event(logging.ERROR, f"{self.name} refused this service's token (is JWT_SECRET the same?)",
                      downstream=self.name, status=response.status_code, body=response.text[:200])
            raise Unavailable(f"{self.name} refused the service token ({response.status_code})")
        return response

    def _send(self, session, method, path, **options):
        """The request, sent once more on a new connection when a kept-alive one turns out dropped by the other side
        (it was replaced or restarted since this thread last called it): such a request most likely never reached it."""
        for again in (False, True):
            try:
                return session.request(method, self.base_url + path, **options)
            except requests.ConnectionError as exc:
                if again or not dropped_by_peer(exc):
                    raise
                log_event(logging.INFO, f"{self.name} dropped a kept-alive connection; sending again",
                          downstream=self.name, method=method, path=path, error=str(exc)[:200])
                session.close()


def dropped_by_peer(exc):
    """Whether a connection error is a connection the other side dropped (not one refused or timed out)."""
    return bool(exc.args) and isinstance(exc.args[0], ProtocolError)


def body_of(response):
    """The response's JSON object, or {} if it has none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
