"""The quality gate: rules over a run's Allure results, with quarantined known issues.

The rules live in a checked-in JSON file (reports/quality-gate.json)::

    {
      "rules": {"min_tests": 4, "max_failures": 0, "min_success_rate": 100},
      "quarantine": [
        {"scenario": "Placing orders: An order for more than the store has is rejected",
         "reason": "stock check races with reservations", "issue": "SHOP-142"}
      ]
    }

Counted as the report counts: the latest result of each scenario. A *test* is a result that ran
(passed, failed, broken or unknown; skipped ones are not tests here). A *failure* is a failed,
broken or unknown result that is not quarantined. The success rate is passed / (passed + failures):
quarantined failures count on neither side, and are listed. Every rule is optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from crucible.report import results as report
from crucible.errors import CrucibleError

RULES = {
    "min_tests": "at least this many tests ran",
    "max_failures": "at most this many failed or broken tests (quarantined ones excluded)",
    "min_success_rate": "at least this percentage of the counted tests passed",
}
ENTRY_KEYS = {"scenario", "historyId", "reason", "issue"}


class GateError(CrucibleError):
    """The quality gate cannot be checked: its file is unusable or there are no results."""


@dataclass(frozen=True)
class Quarantine:
    """A known issue: results of this scenario (or historyId) that fail do not break the gate."""

    reason: str
    scenario: str | None = None
    history_id: str | None = None
    issue: str | None = None

    def matches(self, result: dict) -> bool:
        """Whether the result is this scenario's: by full name, name, outline name or historyId."""
        if self.history_id is not None:
            return self.history_id in (result.get("historyId"), result.get("testCaseId"))
        name = str(result.get("name", ""))
        return self.scenario in {result.get("fullName"), name, name.split(" -- @")[0].strip()}

    def describe(self) -> str:
        """The entry as a person reads it."""
        what = self.scenario if self.scenario is not None else f"historyId {self.history_id}"
        return f"{what} ({self.reason}{', ' + self.issue if self.issue else ''})"


@dataclass(frozen=True)
class GateConfig:
    """The rules and the quarantine list of one gate file."""

    path: Path
    rules: dict[str, float]
    quarantine: list[Quarantine] = field(default_factory=list)


def load_config(path: Path) -> GateConfig:
    """Read and check a gate file; any mistake names the file and the key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"quality gate file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise GateError(f"quality gate file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GateError(f"{path}: expected a JSON object with 'rules' and 'quarantine'")
    unknown = set(data) - {"rules", "quarantine", "$comment"}
    if unknown:
        raise GateError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; expected 'rules', 'quarantine'")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise GateError(f"{path}: 'rules' must be an object of {', '.join(RULES)}")
    for name, value in rules.items():
        if name not in RULES:
            raise GateError(f"{path}: unknown rule '{name}'; the rules are: "
                                  + "; ".join(f"{k} ({v})" for k, v in RULES.items()))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise GateError(f"{path}: rule '{name}' must be a number >= 0, not {value!r}")
        if name == "min_success_rate" and value > 100:
            raise GateError(f"{path}: rule 'min_success_rate' is a percentage (0-100), not {value!r}")
    entries = data.get("quarantine", [])
    if not isinstance(entries, list):
        raise GateError(f"{path}: 'quarantine' must be a list of {{scenario or historyId, reason}}")
    return GateConfig(path, dict(rules), [_entry(path, i, e) for i, e in enumerate(entries)])


def _entry(path: Path, index: int, entry) -> Quarantine:
    """One quarantine entry, checked: scenario or historyId, and a reason."""
    where = f"{path}: quarantine[{index}]"
    if not isinstance(entry, dict):
        raise GateError(f"{where} must be an object with 'scenario' (or 'historyId') and 'reason'")
    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise GateError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"expected {', '.join(sorted(ENTRY_KEYS))}")
    if ("scenario" in entry) == ("historyId" in entry):
        raise GateError(f"{where} needs exactly one of 'scenario' or 'historyId'")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise GateError(f"{where} needs a 'reason': why is this failure accepted for now?")
    return Quarantine(reason=reason.strip(), scenario=entry.get("scenario"), history_id=entry.get("historyId"),
                      issue=entry.get("issue"))


@dataclass
class Verdict:
    """The counts of a run and which rules it broke."""

    tests: int
    passed: int
    failures: list[dict]
    quarantined: list[tuple[dict, Quarantine]]
    unused: list[Quarantine]
    broken_rules: list[str]
    checked_rules: list[str]

    @property
    def success_rate(self) -> float:
        """passed / (passed + failures), in percent; 0 when nothing counted."""
        counted = self.passed + len(self.failures)
        return 100.0 * self.passed / counted if counted else 0.0

    @property
    def passed_gate(self) -> bool:
        """True when no rule is broken."""
        return not self.broken_rules


def evaluate(results: list[dict], config: GateConfig) -> Verdict:
    """Apply the rules to the results (the latest of each scenario)."""
    ran = [r for r in results if r.get("status") != "skipped"]
    passed = sum(1 for r in ran if r.get("status") == "passed")
    failures, quarantined, used = [], [], set()
    for result in ran:
        if result.get("status") not in ("passed", "skipped"):
            entry = next((q for q in config.quarantine if q.matches(result)), None)
            if entry is None:
                failures.append(result)
            else:
                quarantined.append((result, entry))
                used.add(entry)
    failures.sort(key=_name)
    quarantined.sort(key=lambda pair: _name(pair[0]))
    verdict = Verdict(len(ran), passed, failures, quarantined,
                      [q for q in config.quarantine if q not in used], [], [])
    rules = config.rules
    rate = verdict.success_rate
    checks = {
        "min_tests": (verdict.tests >= rules.get("min_tests", 0),
                      f"{verdict.tests} test(s) ran, at least {_num(rules.get('min_tests'))} required"),
        "max_failures": (len(failures) <= rules.get("max_failures", float("inf")),
                         f"{len(failures)} failure(s), at most {_num(rules.get('max_failures'))} allowed"),
        "min_success_rate": (rate >= rules.get("min_success_rate", 0),
                             f"success rate {rate:.1f}% ({passed} of {passed + len(failures)} passed), "
                             f"at least {_num(rules.get('min_success_rate'))}% required"),
    }
    for name in RULES:
        if name in rules:
            ok, text = checks[name]
            (verdict.checked_rules if ok else verdict.broken_rules).append(f"{name}: {text}")
    return verdict


def _name(result: dict) -> str:
    """The name results are listed by: 'Feature: Scenario' (then the example row's name)."""
    return f"{result.get('fullName') or ''} {result.get('name') or ''}"


def _num(value) -> str:
    """A rule's number without a needless '.0'."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _line(result: dict) -> str:
    """One result as 'status  Feature: Scenario — message'."""
    message = ((result.get("statusDetails") or {}).get("message") or "").strip().splitlines()
    name = result.get("fullName") or result.get("name")
    if result.get("parameters"):
        values = ", ".join(f"{p.get('name')}={p.get('value')}" for p in result["parameters"])
        name = f"{name} [{values}]"
    return f"{result.get('status', 'unknown'):7} {name}" + (f" - {message[0]}" if message else "")


def render(verdict: Verdict, config: GateConfig) -> str:
    """The verdict as the text the gate prints."""
    head = "PASSED" if verdict.passed_gate else "FAILED"
    lines = [f"Quality gate {head} ({config.path}): {verdict.tests} tests, {verdict.passed} passed, "
             f"{len(verdict.failures)} failed or broken, {len(verdict.quarantined)} quarantined"]
    lines += [f"  BROKEN  {rule}" for rule in verdict.broken_rules]
    lines += [f"  ok      {rule}" for rule in verdict.checked_rules]
    if verdict.failures:
        lines.append("Failures:")
        lines += [f"  {_line(r)}" for r in verdict.failures]
    if verdict.quarantined:
        lines.append("Quarantined (known issues, not counted):")
        lines += [f"  {_line(r)}\n      because: {q.reason}{' (' + q.issue + ')' if q.issue else ''}"
                  for r, q in verdict.quarantined]
    if verdict.unused:
        lines.append("Quarantine entries that matched no failure (remove them once the issue is fixed):")
        lines += [f"  {q.describe()}" for q in verdict.unused]
    return "\n".join(lines)


def check(results_dir: Path, config_path: Path) -> tuple[Verdict, str]:
    """Evaluate the gate file against a results directory; return the verdict and its text."""
    config = load_config(config_path)
    if not results_dir.is_dir():
        raise GateError(f"no Allure results to check: {results_dir} is not a directory (run behave first)")
    verdict = evaluate(report.load_results(results_dir), config)
    return verdict, render(verdict, config)
