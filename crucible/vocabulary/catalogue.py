"""The step catalogue: docs/steps.md from the step definitions.

``crucible docs`` writes the project's docs/steps.md from the docstrings of the steps its
``steps/`` folder loads (its own, and Crucible's generic vocabulary): first line ``Example: <a
step as a feature writes it>``, indented lines after it the example's table or docstring, then a
description. ``crucible docs --check`` fails when docs/steps.md is stale. The pre-flight
(``feature_check.py``) compares the features with the same step definitions.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from behave.runner_util import load_step_modules
from behave.step_registry import registry

from crucible.settings import Settings

log = logging.getLogger("crucible.catalogue")

# The generic vocabulary's sections in reading order; a project's own step modules come first.
GENERIC = ["variables_steps.py", "http_steps.py", "json_steps.py", "waiting_steps.py", "messaging_steps.py",
           "database_steps.py", "stack_steps.py", "load_steps.py", "fault_steps.py", "contract_steps.py",
           "pact_steps.py", "security_steps.py"]
KEYWORDS = {"given": "Given", "when": "When", "then": "Then", "step": "Given/When/Then"}
TYPED_FIELD = re.compile(r"\{(\w+):[^}]+\}")
STEP_KEYWORD = re.compile(r"^(Given|When|Then|And|But)\s+")


@dataclass
class StepDoc:
    """One step definition as the catalogue shows it."""

    keyword: str
    patterns: list[str]
    example: str
    block: list[str]
    description: str
    module: str
    location: str

    @property
    def example_text(self) -> str:
        """The example without its keyword, as the registry matches it."""
        return STEP_KEYWORD.sub("", self.example)


@dataclass
class Section:
    """The steps of one step module."""

    module: str
    title: str
    text: str
    steps: list[StepDoc] = field(default_factory=list)


def load(steps_dir: Path) -> None:
    """Load the step modules into behave's step registry, the project's folder importable as behave makes it
    (loading twice is harmless)."""
    root = str(steps_dir.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    load_step_modules([str(steps_dir)])


def parse_docstring(doc: str | None) -> tuple[str, list[str], str]:
    """Split a step's docstring into its example line, the example's block, and the description.

    The first line is ``Example: <step>``; the lines after it up to the first blank line are the
    example's table or docstring; everything after that blank line is the description.
    """
    lines = (doc or "").strip("\n").splitlines()
    if not lines or not lines[0].strip().startswith("Example: "):
        return "", [], inspect.cleandoc(doc or "")
    example = lines[0].strip().removeprefix("Example: ").strip()
    rest = lines[1:]
    end = next((i for i, line in enumerate(rest) if not line.strip()), len(rest))
    block = textwrap.dedent("\n".join(rest[:end])).splitlines() if end else []
    return example, block, inspect.cleandoc("\n".join(rest[end:])) if rest[end:] else ""


def collect(steps_dir: Path, order: list[str] | tuple[str, ...] = ()) -> list[Section]:
    """Every step definition, grouped by module in reading order, in source order within a module.

    ``order`` names the project's own modules first; the generic vocabulary comes after them.
    """
    load(steps_dir)
    definitions = [(step_type, m) for step_type, matchers in registry.steps.items() for m in matchers]
    definitions.sort(key=lambda pair: (pair[1].location.filename, pair[1].location.line))
    sections: dict[str, Section] = {}
    by_func: dict[object, StepDoc] = {}
    for step_type, matcher in definitions:
        func = inspect.unwrap(matcher.func)
        pattern = TYPED_FIELD.sub(r"{\1}", matcher.pattern)
        if func in by_func:
            by_func[func].patterns.append(pattern)
            continue
        module = Path(matcher.location.filename).name
        if module not in sections:
            sections[module] = _section(module, func.__globals__.get("__doc__"))
        example, block, description = parse_docstring(func.__doc__)
        by_func[func] = StepDoc(KEYWORDS[step_type], [pattern], example, block, description, module,
                                f"{module}:{matcher.location.line}")
        sections[module].steps.append(by_func[func])
    ranked = [*order, *GENERIC]
    rank = {name: i for i, name in enumerate(ranked)}
    return sorted(sections.values(), key=lambda s: (rank.get(s.module, len(order)), s.module))


def _section(module: str, doc: str | None) -> Section:
    """A section from a step module's docstring: the title before the first line's colon, the rest as text."""
    first, _, text = inspect.cleandoc(doc or module).partition("\n")
    title, colon, lead = first.partition(":")
    intro = (lead.strip()[:1].upper() + lead.strip()[1:]) if colon else ""
    return Section(module, title.strip(), "\n\n".join(part for part in (intro, text.strip()) if part))


def _example_block(doc: StepDoc) -> list[str]:
    """The example as Gherkin lines, its docstring wrapped in triple quotes."""
    lines = [doc.example]
    if doc.block and doc.block[0].startswith("|"):
        lines += [f"  {line}" for line in doc.block]
    elif doc.block:
        lines += ['  """'] + [f"  {line}" for line in doc.block] + ['  """']
    return lines


def render(sections: list[Section]) -> str:
    """The catalogue as Markdown."""
    out = ["# Step catalogue", "",
           "Generated from the step definitions by `crucible docs` (`make docs`); do not edit by hand.",
           "`crucible docs --check` fails when this file is stale.", "",
           "Any step can also be written with `And` or `But` after a step of its kind. Placeholders in",
           "`{braces}` in a step below are what you write there; in a feature, `{name}` is a variable",
           "(see Variables).", "", "## Contents", ""]
    out += [f"- [{s.title}](#{_anchor(s.title)})" for s in sections]
    for section in sections:
        out += ["", f"## {section.title}", ""]
        if section.text:
            out += [section.text, ""]
        for doc in section.steps:
            out += [f"### {doc.keyword} " + " / ".join(f"`{p}`" for p in doc.patterns), ""]
            if doc.description:
                out += [doc.description, ""]
            out += ["```gherkin", *_example_block(doc), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _anchor(title: str) -> str:
    """The GitHub-style anchor of a heading."""
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def shown(path: str, root: Path) -> str:
    """A path relative to the project when it lies inside it."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)


def write_docs(options: Settings, check: bool = False) -> int:
    """Write the project's docs/steps.md, or (``check``) fail when it is not current."""
    root = options.root.resolve()
    docs = root / "docs" / "steps.md"
    sections = collect(root / "steps", options["steps_order"])
    text = render(sections)
    if check:
        if docs.exists() and docs.read_text() == text:
            return 0
        log.error("%s is stale: run `crucible docs` (make docs) and commit it.", shown(str(docs), root))
        return 1
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text)
    log.info("Wrote %s (%d steps).", shown(str(docs), root), sum(len(s.steps) for s in sections))
    return 0
