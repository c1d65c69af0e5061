"""The reading helpers every part of the compose reader shares: problems and notices at the right line,
and values as Compose writes them (yes/no words, whole numbers as text, durations, KEY=VALUE lists).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import durationpy

from crucible.stack.compose.problems import Findings
from crucible.stack.compose.source import Node, Seq

_UNIT = re.compile(r"[^\d.+-]+")
_GO_UNITS = {"ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h"}  # durationpy also takes d, w, mm and y
_TRUE, _FALSE = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0"}


def scalar(value: Any) -> str:
    """A YAML scalar as the text Compose passes to a container."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_address(text: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _seconds(text: str) -> float:
    """A duration as Compose reads it (Go's time.ParseDuration: ``0``, ``10ns``, ``1us``, ``1m30s``), in seconds;
    a ValueError for text that is not one."""
    if not set(_UNIT.findall(text)) <= _GO_UNITS:
        raise ValueError(f"not a Go duration: {text!r}")
    return durationpy.from_str(text).total_seconds()


class Values:
    """Reads values of a merged, canonical compose document, recording problems and notices by line."""

    def __init__(self, doc: Node, env: dict[str, str], findings: Findings):
        self.doc = doc
        self.env = env
        self.findings = findings

    def problem(self, parent: Any, key: Any, path: tuple, message: str, hint: str = "") -> None:
        """Record a problem at ``parent[key]``."""
        loc = parent.loc(key) if isinstance(parent, (Node, Seq)) else None
        self.findings.problem(loc, path, message, hint)

    def notice(self, parent: Any, key: Any, path: tuple, message: str) -> None:
        """Record a notice at ``parent[key]``."""
        loc = parent.loc(key) if isinstance(parent, (Node, Seq)) else None
        self.findings.notice(loc, path, message)

    def checked(self, path: tuple) -> bool:
        """True if the schema (or an earlier check) already found a problem there."""
        return self.findings.has_problem_at(path)

    def boolean(self, parent: Node, key: str, path: tuple, default: bool = False) -> bool:
        """A yes/no value (Compose also accepts the words true/false, yes/no, on/off, 1/0)."""
        value = parent.get(key, default)
        if isinstance(value, bool) or self.checked(path + (key,)):
            return value if isinstance(value, bool) else default
        if str(value).lower() in _TRUE | _FALSE:
            return str(value).lower() in _TRUE
        self.problem(parent, key, path + (key,), f"expected true or false, got {value!r}")
        return default

    def integer(self, parent: Node, key: str, path: tuple, default: int | None = None) -> int | None:
        """A whole number (also written as text)."""
        value = parent.get(key, default)
        if value is None or isinstance(value, int) and not isinstance(value, bool):
            return value
        if self.checked(path + (key,)):
            return default
        try:
            return int(str(value), 0)
        except ValueError:
            self.problem(parent, key, path + (key,), f"expected a whole number, got {value!r}")
            return default

    def duration(self, parent: Node, key: str, path: tuple, default: str | None) -> float | None:
        """A Compose duration such as ``1m30s`` or ``500ms``, in seconds."""
        value = parent.get(key, default)
        if value is None:
            return None
        if self.checked(path + (key,)):
            return _seconds(default) if default else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        text = str(value).strip()
        try:
            return _seconds(text)
        except ValueError:  # durationpy's DurationError is one
            self.problem(parent, key, path + (key,), f"cannot read duration '{text}'", "write e.g. 500ms, 2s or 1m30s")
            return _seconds(default) if default else None

    def strings(self, value: Any, parent: Any, key: Any, path: tuple, from_env: bool = False) -> dict[str, str]:
        """A mapping (or list of KEY=VALUE) as text; an entry without a value comes from the environment."""
        if isinstance(value, Seq):
            value = Node({k: v or "" for k, _, v in (str(item).partition("=") for item in value)}, value.at)
        if not isinstance(value, Node):
            return {}
        out = {}
        for name, item in value.items():
            if not name:
                self.problem(value, name, path + (key,), "an entry has no name", "write NAME: value")
            elif item is None and from_env:
                if self.env.get(name) is not None:
                    out[name] = self.env[name]
            elif isinstance(item, (Node, Seq)):
                self.problem(value, name, path + (key, name), f"the value of '{name}' is a mapping or a list; values "
                             f"here must be text", "quote it if the text is meant to look like one")
            else:
                out[name] = "" if item is None else scalar(item)
        return out

    def texts(self, value: Any) -> list[str]:
        """A list of texts (a single text is a list of one)."""
        if value is None:
            return []
        if isinstance(value, (str, int, float)):
            return [str(value)]
        return [str(v) for v in value] if isinstance(value, list) else []
