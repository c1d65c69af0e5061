"""Test card numbers: Luhn-valid, unique per scenario, and the endings the test issuer declines.

The reference platform decides a payment by the number alone (docker/README.md, "Test cards"):
a Luhn-valid number ending in ``0002`` is declined by the issuer, one ending in ``0051`` has
insufficient funds, any other Luhn-valid number is authorised unless fraud screening objects.
Fraud counts every attempt per card, so each person gets a fresh card in each scenario.
"""

from __future__ import annotations

import random
import re

from crucible import secrets
from crucible.errors import TestDataError

DECLINED = "0002"
INSUFFICIENT_FUNDS = "0051"
DECLINING_ENDINGS = (DECLINED, INSUFFICIENT_FUNDS)
LENGTH = 16
BIN_LENGTH = 6
# Ordinary cards start with 4; the issuer ranges a scenario blocks start with 9, so a blocked
# range can never cover an ordinary card of a scenario running at the same time.
ORDINARY_PREFIX = "4"
BLOCKABLE_PREFIX = "9"

_rng = random.SystemRandom()


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` + digit pass the Luhn check, e.g. ``luhn_check_digit("7992739871") == "3"``."""
    if not body.isdigit():
        raise TestDataError(f"A card number has digits only, not {body!r}")
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    """True if the digits of ``number`` (spaces and dashes ignored) pass the Luhn check."""
    digits = re.sub(r"[ -]", "", number)
    return digits.isdigit() and len(digits) >= 2 and secrets.luhn_valid(digits)


def random_bin(prefix: str = ORDINARY_PREFIX, rng: random.Random = _rng) -> str:
    """A six-digit issuer range (BIN) starting with ``prefix``."""
    return prefix + "".join(rng.choice("0123456789") for _ in range(BIN_LENGTH - len(prefix)))


def card_number(bin: str | None = None, ending: str | None = None, rng: random.Random = _rng) -> str:
    """A Luhn-valid 16-digit number with the given BIN and last digits (random where not given).

    Without ``ending`` the number never ends in a declining ending (0002, 0051).
    Example: ``card_number(ending="0002")`` is a card the issuer declines.
    """
    bin = bin or random_bin(rng=rng)
    if ending is not None and not (ending.isdigit() and 1 <= len(ending) <= LENGTH - len(bin) - 1):
        raise TestDataError(f"A card ending must be 1 to {LENGTH - len(bin) - 1} digits, not {ending!r}")
    while True:
        if ending is None:
            body = bin + "".join(rng.choice("0123456789") for _ in range(LENGTH - len(bin) - 1))
            number = body + luhn_check_digit(body)
            if number[-4:] not in DECLINING_ENDINGS:
                return number
            continue
        free = LENGTH - len(bin) - len(ending)
        middle = "".join(rng.choice("0123456789") for _ in range(free - 1))
        # Exactly one value of the last free digit makes ending[-1] the check digit.
        for last_free in "0123456789":
            body = bin + middle + last_free + ending[:-1]
            if luhn_check_digit(body) == ending[-1]:
                return body + ending[-1]


def last4(number: str) -> str:
    """The last four digits of a card number."""
    return re.sub(r"\D", "", number)[-4:]


def bin_of(number: str) -> str:
    """The issuer range (first six digits) of a card number."""
    return re.sub(r"\D", "", number)[:BIN_LENGTH]


def occurrences(number: str, text: str) -> list[str]:
    """Each place ``number`` appears in ``text``, also grouped with spaces or dashes (a short excerpt each)."""
    digits = re.sub(r"\D", "", number)
    pattern = re.compile(r"(?<!\d)" + r"[ -]?".join(digits) + r"(?!\d)")
    return [text[max(0, m.start() - 60):m.end() + 20].replace("\n", " ") for m in pattern.finditer(text)]
