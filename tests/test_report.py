"""Tests of crucible.report: metadata files, summary, and a real single-file report."""

from __future__ import annotations

import json
import logging
import re
import shutil
import stat
import uuid
from pathlib import Path

import pytest
from report_page import embedded_files

from crucible.report import results as report
from crucible.errors import CrucibleError

REPO = Path(__file__).resolve().parents[1]
needs_allure = pytest.mark.skipif(not report.allure_installed(), reason="the Allure CLI is missing: run crucible setup")


def write_result(results_dir: Path, name: str, status: str | None, *,
                 history_id: str | None = None, stop: int = 1_700_000_000_100) -> Path:
    """Write one result file shaped like allure-behave's, with one step, and return its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    result_uuid = str(uuid.uuid4())
    result = {
        "name": name,
        "steps": [
            {"name": f"Given {name} runs", "status": status or "passed", "start": stop - 50, "stop": stop},
        ],
        "attachments": [],
        "start": stop - 100,
        "stop": stop,
        "uuid": result_uuid,
        "historyId": history_id or uuid.uuid4().hex,
        "testCaseId": uuid.uuid4().hex,
        "fullName": f"Checkout: {name}",
        "labels": [
            {"name": "severity", "value": "normal"},
            {"name": "feature", "value": "Checkout"},
            {"name": "framework", "value": "behave"},
            {"name": "language", "value": "cpython3"},
        ],
        "titlePath": ["features", "Checkout"],
    }
    if status is not None:
        result["status"] = status
    if status in ("failed", "broken"):
        result["statusDetails"] = {"message": f"{name} went wrong", "trace": "  File \"steps.py\", line 1\n"}
    path = results_dir / f"{result_uuid}-result.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    return path


def fake_cli(root: Path, script: str) -> Path:
    """A shell script standing in for the Allure CLI; returns its path."""
    cli = root / "bin" / "allure"
    cli.parent.mkdir(parents=True)
    cli.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    return cli


def test_report_error_is_a_crucible_error():
    assert issubclass(report.ReportError, CrucibleError)


def test_write_environment_plain_values(tmp_path):
    report.write_environment(tmp_path, {"python": "3.11.7", "behave": "1.3.3"})

    text = (tmp_path / "environment.properties").read_text(encoding="ascii")
    assert text == "python=3.11.7\nbehave=1.3.3\n"


def test_write_environment_escapes_keys_and_values(tmp_path):
    report.write_environment(tmp_path, {
        "Docker engine": "27.1 (rootless)",
        "a=b:c#!": "x=y",
        "lead": "  two spaces",
        "multi": "line1\nline2\ttab",
        "back\\slash": "C:\\path\\",
        "unicode": "café 😀",
    })

    lines = (tmp_path / "environment.properties").read_text(encoding="ascii").splitlines()
    assert lines == [
        "Docker\\ engine=27.1 (rootless)",
        "a\\=b\\:c\\#\\!=x=y",
        "lead=\\  two spaces",
        "multi=line1\\nline2\\ttab",
        "back\\\\slash=C:\\\\path\\\\",
        "unicode=caf\\u00e9 \\ud83d\\ude00",
    ]


def test_write_environment_creates_the_results_dir(tmp_path):
    results = tmp_path / "reports" / "allure-results"

    report.write_environment(results, {"k": "v"})

    assert (results / "environment.properties").is_file()


def test_write_executor(tmp_path):
    info = {"name": "Crucible", "type": "local", "buildName": "run 7", "buildOrder": 7}

    report.write_executor(tmp_path, info)

    assert json.loads((tmp_path / "executor.json").read_text(encoding="utf-8")) == info


def test_summarise_counts_each_status(tmp_path):
    for name, status in [("a", "passed"), ("b", "passed"), ("c", "failed"), ("d", "broken"),
                         ("e", "skipped"), ("f", "unknown"), ("g", None)]:
        write_result(tmp_path, name, status)
    (tmp_path / "0000-container.json").write_text("{}", encoding="utf-8")
    (tmp_path / "environment.properties").write_text("k=v\n", encoding="ascii")

    summary = report.summarise(tmp_path)

    assert summary == {"passed": 2, "failed": 1, "broken": 1, "skipped": 1, "unknown": 2, "total": 7}


def test_summarise_keeps_the_latest_result_of_a_retried_scenario(tmp_path):
    write_result(tmp_path, "flaky", "failed", history_id="h1", stop=1_000)
    write_result(tmp_path, "flaky", "passed", history_id="h1", stop=2_000)
    write_result(tmp_path, "other", "passed", history_id="h2")

    summary = report.summarise(tmp_path)

    assert summary == {"passed": 2, "failed": 0, "broken": 0, "skipped": 0, "unknown": 0, "total": 2}


def test_summarise_counts_an_unreadable_result_as_unknown(tmp_path, caplog):
    write_result(tmp_path, "ok", "passed")
    (tmp_path / "broken-result.json").write_text('{"name": "cut sho', encoding="utf-8")
    (tmp_path / "list-result.json").write_text("[]", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="crucible.report"):
        summary = report.summarise(tmp_path)

    assert summary["unknown"] == 2 and summary["total"] == 3
    assert "broken-result.json" in caplog.text and "list-result.json" in caplog.text


def test_summarise_of_an_empty_dir(tmp_path):
    assert report.summarise(tmp_path) == {
        "passed": 0, "failed": 0, "broken": 0, "skipped": 0, "unknown": 0, "total": 0,
    }


def test_one_line():
    summary = {"passed": 11, "failed": 1, "broken": 0, "skipped": 0, "unknown": 0, "total": 12}

    assert report.one_line(summary) == "12 scenarios: 11 passed, 1 failed, 0 skipped"


def test_one_line_counts_broken_scenarios_as_failed_as_the_ci_line_does():
    summary = {"passed": 17, "failed": 2, "broken": 3, "skipped": 0, "unknown": 0, "total": 22}

    assert report.one_line(summary) == ("22 scenarios: 17 passed, 5 failed (3 of them broken: an error, not a failed "
                                        "check), 0 skipped")


def test_one_line_singular_and_unknown():
    summary = {"passed": 0, "failed": 0, "broken": 0, "skipped": 0, "unknown": 1, "total": 1}

    assert report.one_line(summary) == "1 scenario: 0 passed, 0 failed, 0 skipped, 1 unknown"


def test_generate_without_the_cli_says_run_crucible_setup(tmp_path):
    results = tmp_path / "results"
    write_result(results, "a", "passed")

    with pytest.raises(report.ReportError, match="run `crucible setup`"):
        report.generate(results, tmp_path / "out", cli=tmp_path / "no" / "allure")


def test_generate_reports_a_missing_results_dir(tmp_path):
    cli = fake_cli(tmp_path, "exit 0")

    with pytest.raises(report.ReportError, match="not a directory"):
        report.generate(tmp_path / "nowhere", tmp_path / "out", cli=cli)


def test_generate_failure_includes_the_stderr_tail(tmp_path):
    results = tmp_path / "results"
    write_result(results, "a", "passed")
    cli = fake_cli(tmp_path, 'for i in $(seq 1 40); do echo "noise $i" >&2; done\n'
                             'echo "the real cause" >&2; exit 3')

    with pytest.raises(report.ReportError) as caught:
        report.generate(results, tmp_path / "out", cli=cli)

    message = str(caught.value)
    assert "exit 3" in message and "the real cause" in message
    assert "noise 40" in message and "noise 1\n" not in message


def test_generate_times_out(tmp_path):
    results = tmp_path / "results"
    write_result(results, "a", "passed")
    cli = fake_cli(tmp_path, "exec sleep 30")

    with pytest.raises(report.ReportError, match="did not finish within"):
        report.generate(results, tmp_path / "out", cli=cli, timeout=0.5)


def test_generate_fails_when_no_index_is_written(tmp_path):
    results = tmp_path / "results"
    write_result(results, "a", "passed")
    cli = fake_cli(tmp_path, "exit 0")

    with pytest.raises(report.ReportError, match="wrote no"):
        report.generate(results, tmp_path / "out", cli=cli)


@needs_allure
def test_generate_writes_one_self_contained_html_file(tmp_path):
    results = tmp_path / "reports" / "allure-results"
    write_result(results, "pay with a card", "passed")
    write_result(results, "pay with an expired card", "failed")
    write_result(results, "stock service down", "broken")
    report.write_environment(results, {"Docker engine": "27.1", "stack": "orders + inventory"})
    report.write_executor(results, {"name": "Crucible", "type": "local", "buildName": "run 1"})

    index = report.generate(results, tmp_path / "reports" / "allure-report",
                            history=tmp_path / "reports" / "history" / "history.jsonl")

    assert index == tmp_path / "reports" / "allure-report" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert "<title> Crucible </title>" in html
    # One file: no data/ directory, and every script, stylesheet and font is inlined; no analytics tag.
    assert not (index.parent / "data").exists()
    refs = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"', html)
    assert refs and all(ref.startswith("data:") for ref in refs)
    assert "googletagmanager" not in html and "gtag(" not in html
    files = embedded_files(html)
    tests = [json.loads(body) for path, body in files.items() if path.startswith("data/test-results/")]
    assert {(t["name"], t["status"]) for t in tests} == {
        ("pay with a card", "passed"),
        ("pay with an expired card", "failed"),
        ("stock service down", "broken"),
    }
    environment = json.loads(files["widgets/allure_environment.json"])
    assert {item["name"]: item["values"] for item in environment} == {
        "Docker engine": ["27.1"], "stack": ["orders + inventory"],
    }
    # Allure's own count agrees with summarise().
    stats = json.loads((index.parent / "summary.json").read_text(encoding="utf-8"))["stats"]
    assert {key: stats.get(key, 0) for key in ("total", *report.STATUSES)} == {
        "total": 3, "passed": 1, "failed": 1, "broken": 1, "skipped": 0, "unknown": 0,
    }
    assert report.summarise(results) == {
        "passed": 1, "failed": 1, "broken": 1, "skipped": 0, "unknown": 0, "total": 3,
    }
    # One history line per generated report.
    assert len((tmp_path / "reports" / "history" / "history.jsonl").read_text().splitlines()) == 1


def test_read_environment_reads_back_what_write_environment_wrote(tmp_path):
    props = {"Docker engine": "27.1 (rootless)", "a=b:c#!": "x=y", "lead": "  two spaces",
             "multi": "line1\nline2\ttab", "back\\slash": "C:\\path\\", "unicode": "café 😀", "empty": ""}
    report.write_environment(tmp_path, props)

    assert report.read_environment(tmp_path) == props


def test_read_environment_without_a_file_and_with_comments(tmp_path):
    assert report.read_environment(tmp_path) == {}
    (tmp_path / "environment.properties").write_text("# comment\n\n! also\nk:v\nx=1=2\n", encoding="ascii")

    assert report.read_environment(tmp_path) == {"k": "v", "x": "1=2"}


def test_read_environment_follows_the_properties_format(tmp_path):
    # what another tool (or a person) writes into environment.properties: continuation lines, "key value" and
    # "key:value" lines, blanks around the separator, escapes, a comment after a continued line is a value
    (tmp_path / "environment.properties").write_text(
        "Docker engine 27.1\n"
        "  stack : shop, \\\n"
        "          payments\n"
        "path=C:\\\\tools\\\n"
        "    \\#not-a-comment\n"
        "k\\ ey = caf\\u00e9\\tok\n"
        "\tbare\n"
        "  # indented comment\n", encoding="latin-1")

    assert report.read_environment(tmp_path) == {"Docker": "engine 27.1", "stack": "shop, payments",
                                                 "path": "C:\\tools#not-a-comment", "k ey": "caf\u00e9\tok",
                                                 "bare": ""}


def test_run_times_span_the_first_start_to_the_last_stop():
    results = [{"start": 1_700_000_000_000, "stop": 1_700_000_001_000},
               {"start": 1_700_000_002_000, "stop": 1_700_000_065_500}, {"name": "no times"}]

    assert report.run_times(results) == {
        "run.start": "2023-11-14T22:13:20Z", "run.end": "2023-11-14T22:14:25Z", "run.duration": "65.5s",
    }
    assert report.run_times([]) == {}


def test_history_runs_counts_lines(tmp_path):
    history = tmp_path / "history.jsonl"
    assert report.history_runs(history) == 0
    history.write_text('{"a": 1}\n{"b": 2}\n\n', encoding="utf-8")
    assert report.history_runs(history) == 2


CI_VARIABLES = ("GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", report.REPORT_URL_ENV)


def test_executor_info_locally(monkeypatch):
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    assert report.executor_info({"run.id": "ab12cd"}, earlier_runs=4) == {
        "name": "Crucible", "type": "local", "reportName": "Crucible",
        "buildName": "Crucible run ab12cd", "buildOrder": 5,
    }


def test_executor_info_on_github_with_a_report_url(monkeypatch):
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", "shop/crucible")
    monkeypatch.setenv("GITHUB_RUN_ID", "991")
    monkeypatch.setenv("GITHUB_RUN_NUMBER", "42")
    monkeypatch.setenv(report.REPORT_URL_ENV, "https://reports.example/crucible/42/")

    info = report.executor_info({}, earlier_runs=0)

    assert info == {
        "name": "Crucible", "type": "github", "reportName": "Crucible", "buildName": "Crucible run #1",
        "buildOrder": 42, "buildUrl": "https://github.com/shop/crucible/actions/runs/991",
        "reportUrl": "https://reports.example/crucible/42/",
    }


def test_complete_results_adds_times_commit_and_executor(tmp_path, monkeypatch):
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    results = tmp_path / "results"
    write_result(results, "a", "passed", stop=1_700_000_000_100)
    report.write_environment(results, {"run.id": "r1", "engine.version": "Docker 27.1"})
    history = tmp_path / "history.jsonl"
    history.write_text("{}\n", encoding="utf-8")

    environment = report.complete_results(results, REPO, history)

    assert environment == report.read_environment(results)
    assert environment["run.id"] == "r1" and environment["engine.version"] == "Docker 27.1"
    assert environment["run.start"] == "2023-11-14T22:13:20Z"
    if shutil.which("git") and (REPO / ".git").exists():
        assert re.match(r"^[0-9a-f]{7,} ", environment["git.commit"])
    executor = json.loads((results / "executor.json").read_text(encoding="utf-8"))
    assert executor["buildName"] == "Crucible run r1" and executor["buildOrder"] == 2


def test_git_commit_outside_a_repository_is_none(tmp_path):
    assert report.git_commit(tmp_path) is None


def test_load_results_keeps_the_latest_of_each_scenario(tmp_path):
    write_result(tmp_path, "flaky", "failed", history_id="h1", stop=1_000)
    write_result(tmp_path, "flaky", "passed", history_id="h1", stop=2_000)
    (tmp_path / "bad-result.json").write_text("{", encoding="utf-8")

    loaded = report.load_results(tmp_path)

    assert sorted((r["name"], r["status"]) for r in loaded) == [("bad-result.json", "unknown"), ("flaky", "passed")]


@needs_allure
def test_generate_keeps_history_where_it_is_told_and_the_trend_grows(tmp_path):
    results = tmp_path / "reports" / "allure-results"
    write_result(results, "pay with a card", "passed", history_id="h1")
    history = tmp_path / "cache" / "history.jsonl"

    report.generate(results, tmp_path / "reports" / "allure-report", history=history)
    index = report.generate(results, tmp_path / "reports" / "allure-report", history=history)

    assert report.history_runs(history) == 2
    assert not (tmp_path / "reports" / "history").exists()
    files = embedded_files(index.read_text(encoding="utf-8"))
    test = next(json.loads(body) for path, body in files.items() if path.startswith("data/test-results/"))
    assert test.get("transition") != "new"  # the second report knows the scenario from the first
    assert len(test["history"]) == 1
