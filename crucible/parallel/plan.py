"""The plan of a run: the scenarios behave's options select, how long each is expected to take, shards of them.

An item is what behave runs as one unit at the top of a feature: a scenario, a scenario outline
(all its examples) or a rule. Its key is ``path/to.feature:LINE`` relative to the project, the same
on every machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from allure_behave.utils import get_fullname
from behave.configuration import Configuration
from behave.model import Rule, ScenarioOutline
from behave.parser import ParserError
from behave.runner_util import collect_feature_locations, parse_features

from crucible.errors import SettingsError

log = logging.getLogger(__name__)

HISTORY_RUNS = 5  # how many of the newest history entries the estimates average


@dataclass(frozen=True)
class Item:
    """One top-level run item of a feature: a scenario, an outline or a rule."""

    key: str
    name: str
    scenarios: int
    estimate: float
    disruptive: bool = False
    selected: bool = True  # False: the options leave it out; it is only reported as skipped, as behave does

    @classmethod
    def from_dict(cls, data: dict) -> "Item":
        """An item as written into a plan file."""
        return cls(**data)

    def to_dict(self) -> dict:
        """The item as a plan file holds it."""
        return asdict(self)


def behave_config(root: Path, behave_args: list[str]) -> Configuration:
    """behave's own configuration for these options (read as behave reads them, from the project's folder)."""
    previous = Path.cwd()
    os.chdir(root)
    try:
        return Configuration(command_args=list(behave_args), load_config=True)
    except SystemExit:
        raise SettingsError(f"behave does not accept the options {' '.join(behave_args)} (see the message above "
                            f"and `behave --help`)") from None
    finally:
        os.chdir(previous)


def parse(root: Path, config: Configuration) -> list:
    """The features behave's configuration names, parsed as behave parses them."""
    previous = Path.cwd()
    os.chdir(root)
    try:
        locations = [loc for loc in collect_feature_locations(config.paths) if not config.exclude(loc)]
        return parse_features(locations, language=config.lang)
    except ParserError as exc:
        raise SettingsError(f"{exc.filename}:{exc.line}: not valid Gherkin: {exc}") from None
    finally:
        os.chdir(previous)


def leaves(item) -> list:
    """The scenarios a run item runs: itself, an outline's examples, a rule's scenarios."""
    if isinstance(item, Rule):
        return item.walk_scenarios()
    if isinstance(item, ScenarioOutline):
        return list(item.scenarios)
    return [item]


def item_key(root: Path, feature, item) -> str:
    """``features/x.feature:12``: where a run item starts, relative to the project."""
    return f"{Path(os.path.relpath(Path(root, feature.filename), root)).as_posix()}:{item.line}"


def durations(history: Path, runs: int = HISTORY_RUNS) -> dict[str, float]:
    """Seconds each scenario ("Feature: Scenario", all examples together) took, averaged over the newest runs."""
    try:
        lines = [line for line in history.read_text(encoding="utf-8").splitlines() if line.strip()][-runs:]
    except FileNotFoundError:
        return {}
    seen: dict[str, list[float]] = defaultdict(list)
    for number, line in enumerate(lines, 1):
        try:
            results = json.loads(line).get("testResults") or {}
        except (ValueError, AttributeError):
            log.warning("%s: an entry of the history is not JSON; it is left out of the estimates", history)
            continue
        totals: dict[str, float] = defaultdict(float)
        for result in results.values():
            if isinstance(result, dict) and isinstance(result.get("duration"), (int, float)):
                totals[str(result.get("fullName"))] += result["duration"] / 1000
        for name, seconds in totals.items():
            seen[name].append(seconds)
    return {name: statistics.mean(values) for name, values in seen.items()}


def select(root: Path, behave_args: list[str], history: Path, disruptive_tags: list[str]) -> list[Item]:
    """The run items of the features the options name, in file order, each with its estimate, whether it is
    disruptive, and whether the options select it (behave reports the others as skipped, and so do workers)."""
    config = behave_config(root, behave_args)
    known = durations(history)
    typical = statistics.mean(known.values()) if known else None
    disruptive = {tag.lstrip("@") for tag in disruptive_tags}
    items = []
    for feature in parse(root, config):
        for run_item in feature.run_items:
            every = leaves(run_item)
            chosen = [s for s in every if s.should_run(config)]
            if not chosen:
                if every:
                    items.append(Item(key=item_key(root, feature, run_item), name=get_fullname(every[0]),
                                      scenarios=len(every), estimate=0.0, selected=False))
                continue
            names = {get_fullname(s) for s in chosen}
            if typical is None:
                estimate = float(len(chosen))
            else:
                estimate = sum(known.get(name, typical) for name in names)
            items.append(Item(key=item_key(root, feature, run_item), name=get_fullname(chosen[0]),
                              scenarios=len(chosen), estimate=round(estimate, 3),
                              disruptive=any(disruptive & set(s.effective_tags) for s in chosen)))
    return items


def ordered(items: list[Item], workers: int) -> list[Item]:
    """The order workers claim items in: the ones only reported as skipped first, disruptive ones last (every
    worker relies on that); longest first for several workers, file order for one."""
    position = {item.key: index for index, item in enumerate(items)}
    longest = -1 if workers > 1 else 0
    return sorted(items, key=lambda item: (item.selected, item.disruptive, longest * item.estimate,
                                           position[item.key]))


def scenarios(items: list[Item]) -> int:
    """How many scenarios the selected items run."""
    return sum(item.scenarios for item in items if item.selected)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4); a SettingsError for anything that is not K/N with 1 <= K <= N."""
    index, slash, total = text.partition("/")
    if not slash or not index.strip().isdigit() or not total.strip().isdigit():
        raise SettingsError(f"--shard {text}: write K/N, the K-th of N parts, e.g. --shard 1/2")
    k, n = int(index), int(total)
    if n < 1 or not 1 <= k <= n:
        raise SettingsError(f"--shard {text}: K must be between 1 and N (N at least 1), e.g. --shard 1/{max(n, 2)}")
    return k, n


def split(items: list[Item], total: int) -> list[list[Item]]:
    """``total`` parts of about equal expected time: longest first into the lightest part (ties: the lowest).

    Items only reported as skipped go round the parts that run something. Deterministic: the same items
    and estimates give the same parts on every machine. Each part keeps file order.
    """
    loads = [0.0] * total
    chosen: list[set[str]] = [set() for _ in range(total)]
    position = {item.key: index for index, item in enumerate(items)}
    selected = [item for item in items if item.selected]
    for item in sorted(selected, key=lambda item: (-item.estimate, position[item.key])):
        lightest = min(range(total), key=lambda part: (loads[part], part))
        loads[lightest] += item.estimate
        chosen[lightest].add(item.key)
    running = [part for part in chosen if part] or chosen
    for number, item in enumerate(item for item in items if not item.selected):
        running[number % len(running)].add(item.key)
    return [[item for item in items if item.key in keys] for keys in chosen]


def plan_id(items: list[Item], total: int) -> str:
    """A short fingerprint of the whole plan and its split: shards of one plan carry the same id."""
    text = json.dumps([total, [[item.key, item.estimate] for item in items]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
