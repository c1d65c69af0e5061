"""The defect catalogue: one patch file per defect, with what a user would notice, in a folder of the project.

A defect file is a unified diff (``git diff > defects/refund-twice.patch``) whose paths are relative
to the project's root (the settings file's folder), preceded by a few header lines::

    Defect: A return sent twice at the same moment is refunded twice
    Tags: @returns
    Accepted: the payment provider de-duplicates refunds for us (SHOP-231)

    Free text below the header lines: why the defect is realistic, where it was seen.

    diff --git a/docker/orders/app.py b/docker/orders/app.py
    ...

``Defect`` is required (one line: what a user of the system would notice); ``Tags`` is a behave tag
expression choosing the scenarios to run against it (default: every scenario); ``Accepted`` keeps a
survivor from failing the self-check, with the reason why it may survive. The file name without
``.patch`` is the defect's id.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import whatthepatch
from whatthepatch.exceptions import WhatThePatchException

from crucible.errors import CrucibleError
from crucible.vocabulary.catalogue import shown

log = logging.getLogger(__name__)

SUFFIX = ".patch"
HEADERS = {"defect": "description", "tags": "tags", "accepted": "accepted"}
_HEADER = re.compile(r"^([A-Za-z][A-Za-z -]*):\s*(.*)$")
_DIFF_START = re.compile(r"^(diff --git |--- |Index: )")
NULL_PATH = "/dev/null"


class CatalogueError(CrucibleError):
    """A defect file cannot be used: no description, an unknown header, a patch that does not apply."""


@dataclass(frozen=True)
class FileChange:
    """What a patch does to one file: its path (relative to the project root) and the diff to apply."""

    path: str
    diff: object  # whatthepatch's diff
    created: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class Defect:
    """One deliberate defect: where it comes from, what a user would notice, what to run, and the change."""

    id: str
    description: str
    patch: str
    source: str
    tags: str | None = None
    accepted: str | None = None
    notes: str = ""
    kind: str = "defect"
    changes: tuple[FileChange, ...] = field(default=(), compare=False)

    @property
    def files(self) -> list[str]:
        """The files the defect changes, relative to the project root."""
        return [change.path for change in self.changes]


def _strip_prefix(path: str) -> str:
    """``a/docker/x.py`` -> ``docker/x.py`` (git's a/ and b/ prefixes)."""
    return path[2:] if path[:2] in ("a/", "b/") else path


def parse(text: str, source: str, defect_id: str, kind: str = "defect") -> Defect:
    """A defect from the text of its file; CatalogueError naming the file and line when it cannot be used."""
    lines = text.splitlines()
    start = next((number for number, line in enumerate(lines) if _DIFF_START.match(line)), None)
    if start is None:
        raise CatalogueError(f"{source}: no diff in this file: a defect is a unified diff (as `git diff` writes "
                             f"it) after its header lines (Defect:, Tags:, Accepted:).")
    values: dict[str, str] = {}
    header_end = next((number for number, line in enumerate(lines[:start]) if not line.strip()), start)
    for number, line in enumerate(lines[:header_end], 1):
        found = _HEADER.match(line)
        if not found:
            raise CatalogueError(f"{source}:{number}: expected a header line such as 'Defect: ...' (free text goes "
                                 f"below the header lines, after a blank line).")
        key = found.group(1).strip().lower()
        if key not in HEADERS:
            close = difflib.get_close_matches(key, list(HEADERS), n=1)
            raise CatalogueError(f"{source}:{number}: unknown header '{found.group(1)}'"
                                 + (f"; did you mean '{close[0].capitalize()}'?" if close else "")
                                 + " A defect's header lines are Defect:, Tags: and Accepted:.")
        values[HEADERS[key]] = found.group(2).strip()
    if not values.get("description"):
        raise CatalogueError(f"{source}:1: no 'Defect:' line: say in one line what a user would notice, e.g. "
                             f"'Defect: A return sent twice is refunded twice'.")
    if "accepted" in values and not values["accepted"]:
        raise CatalogueError(f"{source}: 'Accepted:' needs the reason why this defect may survive.")
    patch = "\n".join(lines[start:]) + "\n"
    return Defect(id=defect_id, description=values["description"], patch=patch, source=source,
                  tags=values.get("tags") or None, accepted=values.get("accepted"),
                  notes="\n".join(lines[header_end:start]).strip(), kind=kind, changes=_changes(patch, source))


def _changes(patch: str, source: str) -> tuple[FileChange, ...]:
    """The file changes of a patch; CatalogueError when it is not a readable unified diff."""
    try:
        diffs = [diff for diff in whatthepatch.parse_patch(patch) if diff.header is not None]
    except WhatThePatchException as exc:
        raise CatalogueError(f"{source}: the diff cannot be read: {exc}") from None
    changes = []
    for diff in diffs:
        old, new = diff.header.old_path, diff.header.new_path
        path = _strip_prefix(new if new != NULL_PATH else old)
        if path.startswith("/") or ".." in Path(path).parts:
            raise CatalogueError(f"{source}: the diff changes '{path}': paths must be relative to the project's "
                                 f"root, as `git diff` writes them.")
        changes.append(FileChange(path, diff, created=old == NULL_PATH, deleted=new == NULL_PATH))
    if not changes or not any(diff.changes for diff in diffs):
        raise CatalogueError(f"{source}: the diff changes nothing.")
    return tuple(changes)


def patched(change: FileChange, root: Path, source: str) -> str | None:
    """The text of a file after the change (None when the change deletes it); CatalogueError if it does not apply."""
    target = root / change.path
    if change.created:
        original = ""
    else:
        try:
            original = target.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogueError(f"{source}: the diff changes {change.path}, which cannot be read: "
                                 f"{exc.strerror}") from None
    if change.deleted:
        return None
    try:
        lines = whatthepatch.apply_diff(change.diff, original)
    except WhatThePatchException as exc:
        raise CatalogueError(f"{source}: the diff no longer applies to {change.path}: {exc}. Make the change "
                             f"again in the current code and write the patch anew (`git diff > {source}`).") from None
    ends_with_newline = original.endswith("\n") or change.created
    return "\n".join(lines) + ("\n" if ends_with_newline and lines else "")


def load(folder: Path, root: Path) -> list[Defect]:
    """Every defect of the catalogue folder (``*.patch``, by name), each checked to apply to the current code."""
    if not folder.is_dir():
        raise CatalogueError(f"The defect catalogue {folder} is not a folder: create it and put one patch file per "
                             f"defect in it (README, 'Self-check'), or set selfcheck.defects in the settings.")
    defects = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        source = shown(str(path), root.resolve())
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CatalogueError(f"{source}: not UTF-8 text.") from None
        defect = parse(text, source, path.name[:-len(SUFFIX)])
        for change in defect.changes:
            patched(change, root, source)
        defects.append(defect)
    if not defects:
        raise CatalogueError(f"The defect catalogue {shown(str(folder), root.resolve())} holds no *{SUFFIX} file.")
    return defects


def select(defects: list[Defect], wanted: list[str]) -> list[Defect]:
    """The defects whose ids are wanted (all when none are); CatalogueError naming an unknown id."""
    if not wanted:
        return defects
    by_id = {defect.id: defect for defect in defects}
    unknown = [name for name in wanted if name.removesuffix(SUFFIX) not in by_id]
    if unknown:
        hints = [f"'{name}'" + (f" (did you mean '{close[0]}'?)" if (close := difflib.get_close_matches(
            name, list(by_id), n=1)) else "") for name in unknown]
        raise CatalogueError(f"No defect {', '.join(hints)} in the catalogue; its defects: {', '.join(by_id)}.")
    return [by_id[name.removesuffix(SUFFIX)] for name in wanted]
