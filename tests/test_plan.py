"""The plan of a run: selection, estimates from the history, order, shards, progress (no engine needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crucible.errors import SettingsError
from crucible.parallel import plan
from crucible.parallel.claims import Board, Done
from crucible.parallel.plan import Item
from crucible.parallel.progress import Progress, clock

FEATURE = """@shop
Feature: Shop
  Scenario: Quick
    Given a step

  @slow
  Scenario: Slow
    Given a step

  Scenario Outline: Many
    Given a step <n>
    Examples:
      | n |
      | 1 |
      | 2 |
      | 3 |

  @faults
  Scenario: Breaks things
    Given a step
"""


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "features").mkdir()
    (tmp_path / "steps").mkdir()
    (tmp_path / "features" / "shop.feature").write_text(FEATURE)
    (tmp_path / "features" / "other.feature").write_text("Feature: Other\n  Scenario: Alone\n    Given a step\n")
    return tmp_path


def history(path: Path, runs: list[dict[str, int]]) -> Path:
    """A history file with one line per run: fullName -> duration in ms (an outline's examples share a name)."""
    lines = []
    for number, run in enumerate(runs):
        results = {f"{name}#{i}": {"fullName": name.split("#")[0], "duration": ms}
                   for i, (name, ms) in enumerate(run.items())}
        lines.append(json.dumps({"uuid": str(number), "testResults": results}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_items_are_top_level_run_items_selected_as_behave_selects_them(project):
    items = plan.select(project, ["features"], project / "none.jsonl", ["disruptive", "faults"])
    assert [i.key for i in items] == ["features/other.feature:2", "features/shop.feature:3",
                                      "features/shop.feature:7", "features/shop.feature:10",
                                      "features/shop.feature:19"]
    assert [i.scenarios for i in items] == [1, 1, 1, 3, 1]
    assert [i.estimate for i in items] == [1, 1, 1, 3, 1]  # no history: by scenario count
    assert [i.disruptive for i in items] == [False, False, False, False, True]
    tagged = plan.select(project, ["--tags=@slow or @faults", "features"], project / "none.jsonl", ["faults"])
    assert [i.name for i in tagged if i.selected] == ["Shop: Slow", "Shop: Breaks things"]
    assert [i.estimate for i in tagged if not i.selected] == [0, 0, 0]  # reported as skipped, as behave does
    assert plan.scenarios(tagged) == 2
    assert plan.scenarios(plan.select(project, ["--tags=@nothing", "features"], project / "none.jsonl", [])) == 0


def test_estimates_average_the_newest_runs_of_the_history(project):
    path = history(project / "h.jsonl", [
        {"Shop: Slow": 9000, "Shop: Many#1": 100, "Shop: Many#2": 100},
        {"Shop: Slow": 3000, "Shop: Many#1": 300, "Shop: Many#2": 500, "Shop: Quick": 200},
    ])
    assert plan.durations(path) == {"Shop: Slow": 6.0, "Shop: Many": 0.5, "Shop: Quick": 0.2}
    items = {i.name: i.estimate for i in plan.select(project, ["features"], path, [])}
    assert items["Shop: Slow"] == 6.0 and items["Shop: Many"] == 0.5 and items["Shop: Quick"] == 0.2
    assert items["Other: Alone"] == pytest.approx((6.0 + 0.5 + 0.2) / 3, abs=1e-3)  # unknown: the typical one


def test_workers_claim_longest_first_and_disruptive_items_last():
    items = [Item("a:1", "A", 1, 1.0), Item("b:1", "B", 1, 5.0, disruptive=True), Item("c:1", "C", 1, 3.0),
             Item("d:1", "D", 1, 3.0), Item("e:1", "E", 1, 0.0, selected=False)]
    assert [i.key for i in plan.ordered(items, 2)] == ["e:1", "c:1", "d:1", "a:1", "b:1"]
    assert [i.key for i in plan.ordered(items, 1)] == ["e:1", "a:1", "c:1", "d:1", "b:1"]


def test_shards_are_balanced_deterministic_and_cover_everything_once():
    items = [Item(f"f:{n}", f"S{n}", 1, float(d)) for n, d in enumerate([8, 1, 1, 4, 4, 2, 2, 1, 1])]
    parts = plan.split(items, 2)
    assert parts == plan.split(list(items), 2)
    assert sorted(i.key for part in parts for i in part) == sorted(i.key for i in items)
    assert [sum(i.estimate for i in part) for part in parts] == [12.0, 12.0]
    assert [i.key for i in parts[0]] == sorted((i.key for i in parts[0]), key=lambda k: int(k.split(":")[1]))
    assert plan.split(items[:1], 3)[1:] == [[], []]
    assert plan.plan_id(items, 2) != plan.plan_id(items, 3)
    skipped = [Item(f"s:{n}", f"X{n}", 1, 0.0, selected=False) for n in range(3)]
    parts = plan.split(items[:1] + skipped, 3)  # only reported as skipped: with the parts that run something
    assert [[i.key for i in part] for part in parts] == [["f:0", "s:0", "s:1", "s:2"], [], []]


@pytest.mark.parametrize("text, expected", [("1/2", (1, 2)), ("2/2", (2, 2)), ("1/1", (1, 1))])
def test_shard_options(text, expected):
    assert plan.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["3/2", "0/4", "1/0", "x", "1-2", "-1/2"])
def test_bad_shard_options_are_refused(text):
    with pytest.raises(SettingsError, match=f"--shard {text}"):
        plan.parse_shard(text)


def test_one_claim_per_item_and_one_serial_worker(tmp_path):
    board = Board.create(tmp_path / "claims", [Item("a:1", "A", 1, 1.0)])
    assert board.claim(0, "1") and not board.claim(0, "2")
    assert board.claim_serial("2") and not board.claim_serial("1")
    assert board.claimed_by() == {0: "1"}
    board.finish(0, "passed", 1.5, "1")
    assert board.done() == {0: Done(0, "passed", 1.5, "1")}
    assert board.wait_until_done([0]) and not [p for p in os.listdir(board.folder) if p.startswith(".")]


def test_progress_counts_scenarios_and_estimates_the_rest(monkeypatch):
    items = [Item("a:1", "A", 2, 4.0), Item("b:1", "B", 1, 4.0), Item("c:1", "C", 1, 10.0, disruptive=True)]
    progress = Progress(items, timed=True)
    monkeypatch.setattr(progress, "started", progress.started - 4.0)
    line = progress.record(Done(0, "passed", 4.0, "1"))
    assert line.startswith("[2/4] passed  A (4.0s, worker 1) | 0 failed, 0:04 elapsed, about 0:14 left"), line
    line = progress.record(Done(1, "failed", 4.0, "2"))
    assert "FAILED  B" in line and "1 failed" in line and "about 0:10 left" in line, line
    assert progress.record(Done(2, "passed", 9.0, "1")).endswith("all done")
    assert clock(3725) == "1:02:05"
