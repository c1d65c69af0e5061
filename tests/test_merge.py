"""Merging results folders: shards of one plan become one folder; anything else is refused by name."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from crucible.report import results as report
from crucible.report.merge import MergeError, merge


def folder(path: Path, scenarios: list[str], shard: str | None = None, plan: str = "abc", run: str = "r1") -> Path:
    """A results folder with one passed result per scenario and an environment (a shard's, if given)."""
    path.mkdir(parents=True)
    for name in scenarios:
        result = {"uuid": str(uuid.uuid4()), "historyId": name, "fullName": f"F: {name}", "status": "passed",
                  "start": 1, "stop": 2}
        (path / f"{result['uuid']}-result.json").write_text(json.dumps(result))
    environment = {"run.id": run, "engine.version": "Docker 20"}
    if shard:
        environment.update({"shard": shard, "shard.plan": plan, "shard.scenarios": str(len(scenarios))})
    report.write_environment(path, environment)
    return path


def test_the_shards_of_one_plan_merge_into_one_folder(tmp_path):
    one = folder(tmp_path / "1", ["a", "b"], "1/2", run="r1")
    two = folder(tmp_path / "2", ["c"], "2/2", run="r2")
    target = merge([two, one], tmp_path / "merged")
    assert sorted(r["historyId"] for r in report.load_results(target)) == ["a", "b", "c"]
    environment = report.read_environment(target)
    assert environment["shards"] == "2 shards (plan abc)" and "shard" not in environment
    assert environment["run.id"] == "r2, r1" and environment["engine.version"] == "Docker 20"


@pytest.mark.parametrize("shards, message", [
    ([("1/2", "abc", ["a"]), ("2/2", "xyz", ["b"])], "The shards were planned differently"),
    ([("1/2", "abc", ["a"]), ("1/2", "abc", ["b"])], "Shard(s) given more than once: 1/2"),
    ([("1/3", "abc", ["a"]), ("3/3", "abc", ["b"])], "Shard(s) 2/3 of the 3 are missing"),
    ([("1/2", "abc", ["a"]), ("2/2", "abc", ["a"])], "'F: a' ran in"),
    ([("1/2", "abc", ["a"]), (None, "abc", ["b"])], "Some folders are shards of a run and some are not"),
])
def test_shards_that_do_not_belong_together_are_refused(tmp_path, shards, message):
    sources = [folder(tmp_path / str(n), names, shard, plan) for n, (shard, plan, names) in enumerate(shards)]
    with pytest.raises(MergeError) as error:
        merge(sources, tmp_path / "merged")
    assert message in str(error.value)
    assert not (tmp_path / "merged").exists()


def test_plain_results_folders_merge_too_and_bad_folders_are_named(tmp_path):
    one, two = folder(tmp_path / "1", ["a"]), folder(tmp_path / "2", ["b"], run="r2")
    assert len(report.load_results(merge([one, two], tmp_path / "merged"))) == 2
    with pytest.raises(MergeError, match="nowhere: no such results folder"):
        merge([one, tmp_path / "nowhere"], tmp_path / "merged")
    with pytest.raises(MergeError, match="is where the merged results go"):
        merge([one, tmp_path / "merged"], tmp_path / "merged")
    with pytest.raises(MergeError, match="Name the results folders"):
        merge([], tmp_path / "merged")
