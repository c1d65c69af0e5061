"""Where something is written in a compose file, and the problems and notices found there.

Every check of a compose file adds to one ``Findings``: problems (the stack cannot be used as
written; all of them are reported together in one ``ComposeError``) and notices (something is
ignored, said once in one line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from crucible.errors import ComposeError

log = logging.getLogger("crucible.compose")
_said: set[str] = set()  # notices already logged by this process


@dataclass(frozen=True)
class Loc:
    """A file and a line in it (None when the problem is the whole file)."""

    file: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else str(self.file)


def dotted(path: tuple) -> str:
    """A document path as people write it: ``ports[1].target``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def subject(path: tuple) -> str:
    """What a path names: ``service 'web', key 'ports[0]'`` or ``key 'networks.front'``."""
    if len(path) >= 2 and path[0] == "services":
        text = f"service '{path[1]}'"
        return text + (f", key '{dotted(path[2:])}'" if len(path) > 2 else "")
    return f"key '{dotted(path)}'" if path else ""


@dataclass(frozen=True)
class Problem:
    """One reason the stack cannot be used as written, with where it is and what to do."""

    loc: Loc
    path: tuple
    message: str
    hint: str = ""

    def __str__(self) -> str:
        about = subject(self.path)
        head = f"{self.loc}: {about}: {self.message}" if about else f"{self.loc}: {self.message}"
        return head + (f"\n  hint: {self.hint}" if self.hint else "")


def _related(one: tuple, other: tuple) -> bool:
    """True if one path is inside the other (or they are the same)."""
    common = min(len(one), len(other))
    return common > 0 and one[:common] == other[:common]


@dataclass
class Findings:
    """Problems and notices collected while reading a stack's compose files."""

    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def problem(self, loc: Loc | None, path: tuple, message: str, hint: str = "") -> None:
        """Record a problem (reported with all the others at the end)."""
        found = Problem(loc or Loc(Path("?")), tuple(path), message, hint)
        if found not in self.problems:
            self.problems.append(found)

    def notice(self, loc: Loc | None, path: tuple, message: str) -> None:
        """Record a one-line notice: something is ignored, or done differently from Compose."""
        about = subject(tuple(path))
        text = f"{loc}: {about + ': ' if about else ''}{message}" if loc else message
        if text not in self.notices:
            self.notices.append(text)

    def has_problem_at(self, path: tuple) -> bool:
        """True if a problem was already found at ``path`` or inside it (its meaning is not checked again)."""
        path = tuple(path)
        return any(_related(p.path, path) for p in self.problems)

    def raise_problems(self) -> None:
        """Raise one ComposeError listing every problem, if there is any."""
        if not self.problems:
            return
        order: dict[Path, int] = {}
        for found in self.problems:
            order.setdefault(found.loc.file, len(order))
        self.problems.sort(key=lambda p: (order[p.loc.file], p.loc.line or 0))
        if len(self.problems) == 1:
            raise ComposeError(str(self.problems[0]))
        items = "\n".join(f"{n}) " + str(p).replace("\n  hint:", "\n   hint:") for n, p in enumerate(self.problems, 1))
        raise ComposeError(f"{len(self.problems)} problems in the compose file(s); nothing was started:\n{items}")

    def say_notices(self) -> None:
        """Log each notice once per process."""
        for text in self.notices:
            if text not in _said:
                _said.add(text)
                log.warning("notice: %s", text)
