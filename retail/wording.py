"""The typed words of the shop's steps: people, pronouns, money, durations, decisions and tables.

Step modules register these with ``register_type(**wording.TYPES)``; a step then writes
``{person:Person}`` for "Alice", ``{whose:Whose}`` for "her"/"Alice's", ``{price:Money}`` for
"12.50 EUR", ``{seconds:Seconds}`` for "1 second"/"2.5 seconds".
"""

from __future__ import annotations

import re

from parse import with_pattern

from crucible.errors import TestDataError
from retail.money import PATTERN as MONEY_PATTERN
from retail.money import Money

NAME = r"[A-Z][a-zA-Z]*"


@with_pattern(NAME)
def person(text: str) -> str:
    """A person's name: ``Alice``."""
    return text


@with_pattern(rf"{NAME}(?:, {NAME})* and {NAME}")
def people(text: str) -> list[str]:
    """``Alice, Bob and Carol`` -> the three names."""
    return names(text)


@with_pattern(rf"her|his|their|{NAME}'s")
def whose(text: str) -> str | None:
    """``Alice's`` -> ``Alice``; ``her``, ``his``, ``their`` -> None (the person the scenario last acted for)."""
    return text[:-2] if text.endswith("'s") else None


@with_pattern(rf"she|he|they|{NAME}")
def who(text: str) -> str | None:
    """``Alice`` -> ``Alice``; ``she``, ``he``, ``they`` -> None (the person the scenario last acted for)."""
    return None if text in ("she", "he", "they") else text


@with_pattern(MONEY_PATTERN)
def money(text: str) -> Money:
    """``12.50 EUR`` -> Money(1250, "EUR")."""
    return Money.parse(text)


@with_pattern(r"\d+(?:\.\d+)? seconds?")
def seconds(text: str) -> float:
    """``1 second`` -> 1.0, ``2.5 seconds`` -> 2.5."""
    return float(text.split()[0])


@with_pattern(r"approves|declines")
def decision(text: str) -> str:
    """``approves`` -> ``approve``, ``declines`` -> ``decline``."""
    return text[:-1]


@with_pattern(r"confirmed|partially returned|returned|held for review")
def order_state(text: str) -> str:
    """An order's state as a feature names it."""
    return text


TYPES = {"Person": person, "People": people, "Whose": whose, "Who": who, "Money": money, "Seconds": seconds,
         "Decision": decision, "OrderState": order_state}


def rows(table, *required: str, optional: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """A step's table as dicts, after checking it has the required columns (and no unknown ones)."""
    if table is None:
        raise TestDataError(f"This step needs a table with the columns {' | '.join(required)}")
    headings = [h.strip().lower() for h in table.headings]
    missing = [c for c in required if c not in headings]
    unknown = [h for h in headings if h not in required + optional]
    if missing or unknown:
        raise TestDataError(f"The table needs the columns | {' | '.join(required)} |"
                            + (f" (optional: {', '.join(optional)})" if optional else "")
                            + f"; it has | {' | '.join(table.headings)} |")
    return [{h: cell.strip() for h, cell in zip(headings, row.cells)} for row in table.rows]


def quantity(text: str, column: str = "quantity") -> int:
    """A whole number from a table cell (``+4`` and ``-2`` allowed)."""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise TestDataError(f"The {column} column holds whole numbers, not {text!r}")
    return int(text)


def items(table) -> list[tuple[str, int]]:
    """A ``| product | quantity |`` table as (product, quantity) pairs."""
    return [(row["product"], quantity(row["quantity"])) for row in rows(table, "product", "quantity")]


def names(text: str) -> list[str]:
    """``orders, inventory, payments and fraud`` -> the four names."""
    return [part.strip() for part in re.split(r",|\band\b", text) if part.strip()]
