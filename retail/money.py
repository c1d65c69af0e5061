"""Money as features write it ("12.50 EUR") and as the platform keeps it (integer cents)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from crucible.errors import TestDataError

PATTERN = r"\d+(?:\.\d{1,2})? [A-Z]{3}"
DEFAULT_CURRENCY = "EUR"


@dataclass(frozen=True)
class Money:
    """An amount in cents and its currency."""

    cents: int
    currency: str = DEFAULT_CURRENCY

    @classmethod
    def parse(cls, text: str) -> "Money":
        """``Money.parse("12.50 EUR") == Money(1250, "EUR")``."""
        if not re.fullmatch(PATTERN, text.strip()):
            raise TestDataError(f"Write an amount as digits, up to two decimals and a currency, "
                                f"e.g. 12.50 EUR, not {text!r}")
        amount, currency = text.split()
        return cls(int(Decimal(amount) * 100), currency)

    def times(self, quantity: int) -> "Money":
        """This amount ``quantity`` times."""
        return Money(self.cents * quantity, self.currency)

    def __str__(self) -> str:
        return format_cents(self.cents, self.currency)


def format_cents(cents: int | None, currency: str = DEFAULT_CURRENCY) -> str:
    """Cents as a person reads them: ``format_cents(1250) == "12.50 EUR"``."""
    if cents is None:
        return "nothing"
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d} {currency}"
