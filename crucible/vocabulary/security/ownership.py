"""Each subject sees only their own: someone else is refused and learns nothing.

"Learns nothing" is checked, not assumed: the same request is sent again with the resource's id
replaced by a made-up id of the same shape (:func:`lookalike`), and both answers must be the same —
the same status and the same body once the two ids (and request ids) are put aside — and neither
may be a success. A service that answers 403 "not yours" where a missing resource gets 404 tells
the caller that the resource exists; that fails too.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass

import requests

from crucible import secrets

_rng = random.SystemRandom()


def lookalike(value: str) -> str:
    """A made-up value of the same shape: each digit, hex letter or letter replaced by another of its kind.

    >>> len(lookalike("1fbda7ab-3c1e")) == 13 and lookalike("1fbda7ab-3c1e")[8] == "-"
    True
    """
    def other(char: str) -> str:
        if char.isdigit():
            pool = string.digits
        elif char in "abcdef":
            pool = "abcdef"
        elif char in "ABCDEF":
            pool = "ABCDEF"
        elif char.islower():
            pool = string.ascii_lowercase
        elif char.isupper():
            pool = string.ascii_uppercase
        else:
            return char
        return _rng.choice(pool.replace(char, ""))
    made = "".join(other(char) for char in value)
    return made if made != value else value + "0"


@dataclass
class Seen:
    """One answer as the comparison needs it: status, body text, and the id the request asked about."""

    status: int
    text: str
    asked: str
    request_id: str = ""

    @classmethod
    def of(cls, response: requests.Response, asked: str) -> "Seen":
        """An answer to a request about ``asked``."""
        return cls(response.status_code, response.text, asked, response.headers.get("X-Request-ID", ""))

    def normalised(self) -> str:
        """The body with the asked id and the request id put aside (JSON in a canonical form when it is JSON)."""
        text = self.text
        for value in (self.asked, self.request_id):
            if value:
                text = text.replace(value, "<id>")
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            return text.strip()


def expect_as_if_missing(real: Seen, missing: Seen, what: str, who: str) -> None:
    """Fail unless ``who`` got no more about ``what`` than about a made-up one: no success, same answer."""
    assert not 200 <= real.status < 300, (
        f"expected {who} to get nothing of {what}, but the answer was {real.status}: {secrets.shortened(real.text, 300, '')}")
    assert (real.status, real.normalised()) == (missing.status, missing.normalised()), (
        f"expected {who} to learn nothing about {what}: the same answer as for one that does not exist, but "
        f"{what} got {real.status} {secrets.shortened(real.normalised(), 200, '')} and a made-up one got {missing.status} "
        f"{secrets.shortened(missing.normalised(), 200, '')}")
