"""One results folder from several: the shards of one run (``crucible run --shard K/N``), or any runs.

Shards say who they are in their environment.properties (``shard``, ``shard.plan``): the merge
checks that every shard of the plan is there, each once, that they were planned alike (the same
history and features), and that no scenario ran in two of them.
"""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from pathlib import Path

from crucible.errors import CrucibleError
from crucible.report import results as report

log = logging.getLogger("crucible.report")

OWN_FILES = ("environment.properties", "executor.json")  # rewritten for the merged run
SHARD_KEYS = ("shard", "shard.plan", "shard.scenarios")


class MergeError(CrucibleError):
    """Results folders cannot be merged into one report."""


def check_sources(sources: list[Path], target: Path) -> None:
    """Each source is a results folder, none of them is where the merge writes."""
    if not sources:
        raise MergeError("Name the results folders to merge, e.g. `crucible merge shard-1 shard-2`.")
    for source in sources:
        if not source.is_dir():
            raise MergeError(f"{source}: no such results folder.")
        if source.resolve() == target.resolve():
            raise MergeError(f"{source} is where the merged results go (the setting report.results): copy or "
                             f"download each shard's results to a folder of its own, then merge those.")


def check_shards(sources: list[Path], environments: list[dict[str, str]]) -> str | None:
    """If the sources are shards: every one of one plan is there exactly once; the plan's description."""
    shards = {source: env for source, env in zip(sources, environments) if "shard" in env}
    if not shards:
        return None
    if len(shards) != len(sources):
        plain = ", ".join(str(s) for s in sources if s not in shards)
        raise MergeError(f"Some folders are shards of a run and some are not ({plain}): merge the shards of one run.")
    plans = {env.get("shard.plan") for env in shards.values()}
    if len(plans) > 1:
        listed = ", ".join(f"{s} (plan {env.get('shard.plan')})" for s, env in shards.items())
        raise MergeError(f"The shards were planned differently: {listed}. Every shard job must see the same "
                         f"features and the same history file (restore one cache in every job) to split alike.")
    seen: dict[str, list[Path]] = defaultdict(list)
    for source, env in shards.items():
        seen[env["shard"]].append(source)
    total = int(next(iter(seen)).split("/")[1])
    twice = {shard: folders for shard, folders in seen.items() if len(folders) > 1}
    if twice:
        raise MergeError("Shard(s) given more than once: " + "; ".join(
            f"{shard} in {', '.join(map(str, folders))}" for shard, folders in twice.items()))
    missing = [f"{k}/{total}" for k in range(1, total + 1) if f"{k}/{total}" not in seen]
    if missing:
        raise MergeError(f"Shard(s) {', '.join(missing)} of the {total} are missing: merge the results of every "
                         f"shard (found {', '.join(sorted(seen))}).")
    return f"{total} shards (plan {plans.pop()})"


def check_duplicates(sources: list[Path]) -> None:
    """No scenario may have run in two shards."""
    owner: dict[str, Path] = {}
    loaded = {source: report.load_results(source) for source in sources}
    names = {r.get("historyId"): r.get("fullName") for results in loaded.values() for r in results}
    for source, results in loaded.items():
        for history_id in {r.get("historyId") for r in results if r.get("historyId")}:
            if history_id in owner:
                raise MergeError(f"'{names.get(history_id)}' ran in {owner[history_id]} and in {source}: the "
                                 f"shards overlap, so they were not planned alike.")
            owner[history_id] = source


def merged_environment(environments: list[dict[str, str]], shards: str | None) -> dict[str, str]:
    """One environment: values all sources agree on as they are, differing ones listed, shard keys replaced."""
    merged: dict[str, str] = {}
    for key in dict.fromkeys(k for env in environments for k in env):
        if key in SHARD_KEYS:
            continue
        values = list(dict.fromkeys(env[key] for env in environments if key in env))
        merged[key] = ", ".join(values)
    if shards:
        merged["shards"] = shards
    return merged


def merge(sources: list[Path], target: Path) -> Path:
    """Copy the sources' results into ``target`` (emptied first) with one environment; return ``target``."""
    check_sources(sources, target)
    environments = [report.read_environment(source) for source in sources]
    shards = check_shards(sources, environments)
    if shards:
        check_duplicates(sources)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    copied = 0
    for source in sources:
        for path in source.iterdir():
            if path.is_file() and path.name not in OWN_FILES:
                if (target / path.name).exists() and path.name.endswith("-result.json"):
                    raise MergeError(f"{path.name} is in more than one folder: merge each run's results once.")
                shutil.copy2(path, target / path.name)
                copied += 1
    report.write_environment(target, merged_environment(environments, shards))
    log.info("Merged %d files from %s into %s%s", copied, ", ".join(map(str, sources)), target,
             f" ({shards})" if shards else "")
    return target

