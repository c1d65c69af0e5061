"""The pre-flight: what ``crucible run`` checks in the features it will run, before anything starts.

Every problem of every feature file is named in one pass, each by file and line: a file that is
not UTF-8 or not valid Gherkin; a feature that holds no scenario; a Scenario Outline without
Examples; description text that looks like a misspelt keyword (``Senario:``) or a step (steps
written under a misspelt keyword become description text, and nothing runs them); a step that no
definition matches, with the closest existing steps, or with the argument whose type is wrong
("orders abc items": ``quantity`` must be a whole number); a step whose arguments its own check
refuses (``preflight.checked``: a service the compose file does not have, with the closest name,
an impossible load); and a ``--tags`` expression that selects no scenario.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import parse
from behave.configuration import Configuration
from behave.matchers import MatchWithError, ParseMatcher
from behave.model import ScenarioOutline, Step
from behave.parser import ParserError, parse_file
from behave.runner_util import collect_feature_locations
from behave.step_registry import registry

from crucible.settings import Settings
from crucible.stack.compose import Project
from crucible.vocabulary import preflight
from crucible.vocabulary.catalogue import Section, collect, shown

log = logging.getLogger("crucible.preflight")

KEYWORDS = ["Feature", "Rule", "Background", "Scenario", "Scenario Outline", "Scenario Template", "Example",
            "Examples", "Scenarios"]
STEP_WORDS = ["Given", "When", "Then", "And", "But"]
KEYWORD_LINE = re.compile(r"^([A-Za-z][A-Za-z ]{1,24}?)\s*:")
TYPED_FIELD = re.compile(r"\{(\w+):([^}]+)\}")
TYPE_NAMES = {"d": "a whole number", "n": "a whole number", "g": "a number", "f": "a number", "w": "one word",
              "JSON": 'a JSON value ("text", 5, true, null, [..] or {..})',
              "Kind": "a kind of JSON value (a string, a number, an integer, a boolean, an array, an object, a uuid, "
                      "a datetime, a date)"}


@dataclass
class Problem:
    """One problem found in the features, with where it is and what may help."""

    location: str
    text: str
    hints: list[str] = field(default_factory=list)


class _Source:
    """One feature file's lines, to find the line of a description line (behave keeps only their text)."""

    def __init__(self, path: str):
        self.lines = Path(path).read_text(encoding="utf-8").splitlines()

    def line_of(self, text: str, after: int) -> int:
        """The number of the first line after line ``after`` that reads ``text``."""
        for number in range(after + 1, len(self.lines) + 1):
            if self.lines[number - 1].strip() == text.strip():
                return number
        return after


def read(paths: list[str], root: Path) -> tuple[list, list[Problem]]:
    """Parse every feature file under ``paths``; a file that is not UTF-8 or not Gherkin is a problem."""
    features, problems = [], []
    for location in collect_feature_locations(paths):
        name = shown(location.filename, root)
        try:
            feature = parse_file(location.filename)
        except UnicodeDecodeError as exc:
            data = Path(location.filename).read_bytes()
            line = data[:exc.start].count(b"\n") + 1
            problems.append(Problem(f"{name}:{line}", f"not UTF-8 text (byte {data[exc.start]:#04x}); save the "
                                    f"file as UTF-8."))
            continue
        except ParserError as exc:
            reason = str(exc).strip().splitlines()[-1].strip()
            lines = Path(location.filename).read_text(encoding="utf-8").splitlines()
            typo = _misspelt(lines[exc.line - 1]) if exc.line and exc.line <= len(lines) else None
            problems.append(Problem(f"{name}:{exc.line}" if exc.line else name, f"not valid Gherkin ({reason}).",
                                    [f"'{typo[0]}' looks like a misspelt '{typo[1]}'"] if typo else []))
            continue
        if feature is not None:
            features.append(feature)
    return features, problems


def _misspelt(line: str) -> tuple[str, str] | None:
    """(what is written, the keyword it is close to) when a line starts with a near miss of a Gherkin keyword
    (``Senario:``) or of a step's keyword (``Gven``), else None."""
    keyword = KEYWORD_LINE.match(line.strip())
    if keyword and keyword.group(1) not in KEYWORDS:
        close = difflib.get_close_matches(keyword.group(1).title(), KEYWORDS, n=1, cutoff=0.75)
        if close:
            return f"{keyword.group(1)}:", f"{close[0]}:"
    first = line.strip().partition(" ")[0]
    close = difflib.get_close_matches(first, STEP_WORDS, n=1, cutoff=0.75) if first not in STEP_WORDS else []
    return (first, close[0]) if close else None


def _keyword_typo(line: str) -> str | None:
    """Why a description line looks like a misspelt keyword or a step, or None (prose is left alone)."""
    found = _misspelt(line)
    if found and found[0].endswith(":"):
        return (f"'{found[0]}' looks like a misspelt '{found[1]}'; as it is, it and the steps under it are "
                f"description text that never runs.")
    first, _, rest = line.strip().partition(" ")
    if first in STEP_WORDS:
        return "a step in description text, which never runs: is the Scenario (or other keyword) line above misspelt?"
    if found and rest and _defined(rest):
        return f"'{first}' looks like a misspelt '{found[1]}'; as it is, this step is description text that never runs."
    return None


def _defined(text: str) -> bool:
    """True if some step definition matches ``text`` (whatever its keyword)."""
    return any(registry.find_match(Step("", 0, "Given", kind, text)) for kind in ("given", "when", "then"))


def _descriptions(feature) -> list[tuple[object, list[str]]]:
    """Every element of a feature that carries description text, with that text."""
    found = [(feature, feature.description)]
    for rule in getattr(feature, "rules", []):
        found.append((rule, rule.description))
    for element in [feature.background, *feature.walk_scenarios(with_outlines=True)]:
        if element is not None and not getattr(element, "_row", None):
            found.append((element, getattr(element, "description", [])))
    return found


def structure_problems(feature, root: Path) -> list[Problem]:
    """A feature without scenarios, an outline without Examples, description text that looks like Gherkin."""
    name = shown(feature.filename, root)
    source = _Source(feature.filename)
    problems = []
    for element, lines in _descriptions(feature):
        after = element.line
        for line in lines:  # the first suspicious line of a description names the problem
            after = source.line_of(line, after)
            why = _keyword_typo(line)
            if why:
                problems.append(Problem(f"{name}:{after}", f"{line.strip()!r}: {why}"))
                break
    for outline in feature.walk_scenarios(with_outlines=True):
        if isinstance(outline, ScenarioOutline) and not outline.scenarios:
            problems.append(Problem(f"{name}:{outline.line}", f"Scenario Outline '{outline.name}' has no Examples rows, "
                                    f"so it runs nothing: add an Examples: table with at least one row."))
    if not feature.walk_scenarios() and not problems:
        problems.append(Problem(f"{name}:{feature.line}", f"Feature '{feature.name}' holds no scenario, so it tests "
                                f"nothing."))
    return problems


def _suggestions(sections: list[Section]) -> dict[str, str]:
    """Texts to compare an undefined step with -> how each existing step is shown."""
    candidates: dict[str, str] = {}
    for section in sections:
        for doc in section.steps:
            shown_as = f"{doc.keyword} {doc.patterns[0]}" + (f"   e.g. {doc.example}" if doc.example else "")
            candidates.setdefault(doc.example_text, shown_as)
            for pattern in doc.patterns:
                candidates.setdefault(pattern, shown_as)
    return candidates


def _candidates(step) -> list:
    """The step definitions a step of this kind may match."""
    return [*registry.steps[step.step_type], *(registry.steps["step"] if step.step_type != "step" else [])]


def wrong_types(step) -> list[str]:
    """For a step no definition matches: the definitions it would match but for an argument of the wrong type,
    each naming the argument, what it is and what it must be."""
    found = []
    for matcher in _candidates(step):
        if not isinstance(matcher, ParseMatcher) or not TYPED_FIELD.search(matcher.pattern):
            continue
        loose = parse.compile(TYPED_FIELD.sub(r"{\1}", matcher.pattern), case_sensitive=True).parse(step.name)
        if loose is None:
            continue
        types = dict(TYPED_FIELD.findall(matcher.pattern))
        for name, kind in types.items():
            value = loose.named[name]
            if parse.parse("{:%s}" % kind, value, extra_types=ParseMatcher.TYPE_REGISTRY, case_sensitive=True) is None:
                what = TYPE_NAMES.get(kind) or _first_line(ParseMatcher.TYPE_REGISTRY.get(kind)) or f"of type {kind}"
                pattern = TYPED_FIELD.sub(r"{\1}", matcher.pattern)
                found.append(f"the argument {{{name}}} is {value!r}, but it must be {what} (the step: {pattern})")
    return found[:2]


def _first_line(converter) -> str:
    """The first line of a type converter's docstring."""
    return inspect.getdoc(converter).splitlines()[0].rstrip(".") if converter and converter.__doc__ else ""


def step_problems(features: list, sections: list[Section], root: Path, scope: preflight.Scope) -> list[Problem]:
    """Every step that no definition matches, whose argument cannot be read, or whose arguments its check refuses
    (an unknown service, an impossible load)."""
    candidates = _suggestions(sections)
    found: dict[str, Problem] = {}
    for feature in features:
        for scenario in feature.walk_scenarios():
            for step in scenario.all_steps:
                where = f"{shown(step.location.filename, root)}:{step.location.line}"
                if where in found:
                    continue
                text = f"{step.keyword} {step.name}"
                match = registry.find_match(step)
                if match is None:
                    hints = [f"wrong type: {w}" for w in wrong_types(step)]
                    if not hints:
                        close = difflib.get_close_matches(step.name, list(candidates), n=5, cutoff=0.4)
                        hints = [f"did you mean: {s}" for s in dict.fromkeys(candidates[c] for c in close)][:3]
                    found[where] = Problem(where, f"undefined step: {text}", hints or ["(no similar step)"])
                elif isinstance(match, MatchWithError):
                    found[where] = Problem(where, f"{text}: an argument cannot be read: {match.stored_error}")
                else:
                    for _, why in preflight.problems([step], scope):
                        found[where] = Problem(where, f"{text}: {why}")
    return list(found.values())


def tag_problems(features: list, behave_args: list[str], paths: list[str]) -> list[Problem]:
    """A --tags expression that selects none of the scenarios."""
    try:
        config = Configuration(command_args=list(behave_args), load_config=False)
    except SystemExit:  # options behave cannot read: behave itself says so when the run starts
        return []
    if not config.tags:
        return []
    scenarios = [s for f in features for s in f.walk_scenarios()]
    if not scenarios or any(s.should_run_with_tags(config.tag_expression) for s in scenarios):
        return []
    tags = sorted({f"@{t}" for s in scenarios for t in s.effective_tags})
    given = " ".join(f"--tags={tags}" for tags in config.tags)
    return [Problem(", ".join(paths), f"{given} selects none of the {len(scenarios)} "
                    f"scenarios, so the run would test nothing.",
                    [f"the tags there are: {', '.join(tags) or '(none)'}"])]


def problems(paths: list[str], root: Path, sections: list[Section], scope: preflight.Scope,
             behave_args: list[str] | None = None) -> list[Problem]:
    """Every problem of the features under ``paths``."""
    features, found = read(paths, root)
    for feature in features:
        found += structure_problems(feature, root)
    found += step_problems(features, sections, root, scope)
    if not found:
        found += tag_problems(features, behave_args or [], [shown(p, root) for p in paths])
    return found


def check(paths: list[str], options: Settings, project: Project | None = None,
          behave_args: list[str] | None = None) -> int:
    """Log every problem of the features a run names (services checked against ``project``, the compose model);
    1 if there are any (nothing is started), else 0."""
    root = options.root.resolve()
    sections = collect(root / "steps", options["steps_order"])
    found = problems(paths, root, sections, preflight.Scope(project, options), behave_args)
    if not found:
        log.info("The features in %s are ready to run: every step has a definition.",
                 ", ".join(shown(p, root) for p in paths))
        return 0
    lines = [f"{len(found)} problem(s) in the features; nothing was started. See docs/steps.md for every step."]
    for problem in found:
        lines.append(f"  {problem.location}: {problem.text}")
        lines += [f"      {hint}" for hint in problem.hints]
    log.error("\n".join(lines))
    return 1
