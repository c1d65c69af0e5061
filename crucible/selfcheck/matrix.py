"""The kill matrix: for each defect, the scenarios that caught it (with their first failure message), the score,
the survivors and the false alarms, as the console shows it and as JSON.

A scenario catches a defect when it fails or breaks against the defect's variant and passed against
the unbroken stack both first and last (a scenario failing there is a false alarm, and catches
nothing). A variant that never became ready counts as caught at start-up; a suite that did not
finish in time, as caught by the time limit.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from crucible.selfcheck.catalogue import Defect
from crucible.selfcheck.suite import Outcome, SuiteRun

CAUGHT, SURVIVED, ACCEPTED, ERROR, NOT_RUN = "caught", "survived", "survived (accepted)", "error", "not run"
NOT_STARTED = "the variant never became ready"


@dataclass
class Entry:
    """One defect's line of the matrix."""

    defect: Defect
    verdict: str = NOT_RUN
    caught_by: list[Outcome] = field(default_factory=list)
    how: str = ""
    services: list[str] = field(default_factory=list)
    scenarios_run: int = 0
    seconds: float = 0.0
    error: str | None = None
    run: SuiteRun | None = None

    @property
    def caught(self) -> bool:
        """True if the suite noticed the defect."""
        return self.verdict == CAUGHT


@dataclass
class Matrix:
    """The whole self-check: the unbroken runs (first and last) and one entry per defect."""

    project: str
    entries: list[Entry] = field(default_factory=list)
    baseline: dict[str, SuiteRun] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    seconds: float = 0.0

    def false_alarms(self) -> list[tuple[str, Outcome]]:
        """(which unbroken run, outcome) of every scenario that failed against the unbroken stack."""
        return [(name, outcome) for name, run in self.baseline.items() for outcome in run.failing()]

    def baseline_errors(self) -> list[str]:
        """Why an unbroken run could not finish at all."""
        return [f"{name} run of the unbroken stack: {run.error}" for name, run in self.baseline.items()
                if run.error and not run.outcomes]

    def judge(self, entry: Entry) -> Entry:
        """Fill an entry from its variant's run: the catching scenarios, or why it was not caught (judged again
        once the last unbroken run is in, so a scenario that failed there catches nothing)."""
        run = entry.run
        if run is None:
            return entry
        entry.seconds, entry.scenarios_run, entry.error = run.seconds, len(run.outcomes), None
        flaky = {outcome.scenario for _, outcome in self.false_alarms()}
        entry.caught_by = [outcome for outcome in run.failing() if outcome.scenario not in flaky]
        if entry.caught_by:
            entry.verdict, entry.how = CAUGHT, f"{len(entry.caught_by)} scenario(s) failed"
        elif run.error and run.error.startswith("the stack did not start"):
            entry.verdict, entry.how, entry.error = CAUGHT, NOT_STARTED, run.error
        elif run.timed_out:
            entry.verdict, entry.how, entry.error = CAUGHT, "the suite did not finish in time", run.error
        elif run.error:
            entry.verdict, entry.error = ERROR, run.error
        else:
            entry.verdict = ACCEPTED if entry.defect.accepted else SURVIVED
        return entry

    def judged(self) -> list[Entry]:
        """The entries that ran."""
        return [entry for entry in self.entries if entry.verdict != NOT_RUN]

    def survivors(self) -> list[Entry]:
        """Defects no scenario caught (accepted ones included)."""
        return [entry for entry in self.entries if entry.verdict in (SURVIVED, ACCEPTED)]

    def score(self) -> tuple[int, int]:
        """(caught, defects that ran)."""
        judged = self.judged()
        return sum(entry.caught for entry in judged), len(judged)

    def passed(self) -> bool:
        """True when every defect that ran was caught or accepted, and the unbroken stack raised no alarm."""
        bad = [entry for entry in self.entries if entry.verdict in (SURVIVED, ERROR)]
        return not bad and not self.false_alarms() and not self.baseline_errors()

    def summary(self) -> str:
        """One line: the score, survivors, false alarms, and the time it took."""
        caught, total = self.score()
        percent = f" ({100 * caught / total:.0f}%)" if total else ""
        survivors = self.survivors()
        accepted = sum(entry.verdict == ACCEPTED for entry in survivors)
        not_run = sum(entry.verdict == NOT_RUN for entry in self.entries)
        errors = sum(entry.verdict == ERROR for entry in self.entries)
        parts = [f"score {caught}/{total} defects caught{percent}",
                 f"{len(survivors)} survivor(s)" + (f" ({accepted} accepted)" if accepted else ""),
                 f"{len(self.false_alarms())} false alarm(s)"]
        if errors:
            parts.append(f"{errors} could not be judged")
        if not_run:
            parts.append(f"{not_run} not run (time limit)")
        return "; ".join(parts) + f"; took {duration(self.seconds)}"

    def lines(self, width: int = 110) -> list[str]:
        """The matrix as console lines: each defect, its verdict, the scenarios that caught it and their message."""
        out = [f"Kill matrix of '{self.project}': {len(self.entries)} defect(s)"]
        for run_name, outcome in self.false_alarms():
            out.append(f"  FALSE ALARM ({run_name} run of the unbroken stack): {outcome.scenario} [{outcome.status}]")
            out.append(f"      {outcome.message}")
        out += [f"  ERROR: {error}" for error in self.baseline_errors()]
        for entry in self.entries:
            mark = {CAUGHT: "caught  ", SURVIVED: "SURVIVED", ACCEPTED: "accepted", ERROR: "ERROR   ",
                    NOT_RUN: "not run "}[entry.verdict]
            out.append(f"  {mark} {entry.defect.id}: {entry.defect.description}")
            if entry.caught_by:
                for outcome in entry.caught_by:
                    out.append(f"      by {outcome.scenario} [{outcome.status}]")
                    out += textwrap.wrap(outcome.message, width, initial_indent="         ",
                                         subsequent_indent="         ", max_lines=2, placeholder=" ...")
            elif entry.how:
                out.append(f"      {entry.how}")
            if entry.verdict == ACCEPTED:
                out.append(f"      accepted: {entry.defect.accepted}")
            elif entry.verdict == SURVIVED:
                out.append(f"      no scenario failed ({entry.scenarios_run} ran"
                           + (f", tags {entry.defect.tags}" if entry.defect.tags else "") + ")")
            if entry.error and entry.verdict == ERROR:
                out += ["      " + line for line in entry.error.splitlines()[:12]]
        out.append(self.summary())
        return out

    def as_json(self) -> dict:
        """The matrix as a JSON document (kill-matrix.json)."""
        caught, total = self.score()
        return {
            "project": self.project,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "duration_seconds": round(self.seconds, 1),
            "score": {"caught": caught, "total": total,
                      "percent": round(100 * caught / total, 1) if total else None},
            "passed": self.passed(),
            "unbroken_runs": {name: {"scenarios": len(run.outcomes), "seconds": round(run.seconds, 1),
                                     "failing": [_outcome(o) for o in run.failing()], "error": run.error}
                              for name, run in self.baseline.items()},
            "false_alarms": [{"run": name, **_outcome(o)} for name, o in self.false_alarms()],
            "survivors": [{"id": e.defect.id, "description": e.defect.description, "accepted": e.defect.accepted}
                          for e in self.survivors()],
            "defects": [{"id": e.defect.id, "kind": e.defect.kind, "description": e.defect.description,
                         "source": e.defect.source, "files": e.defect.files, "tags": e.defect.tags,
                         "accepted": e.defect.accepted, "verdict": e.verdict, "how": e.how or None,
                         "services_rebuilt": e.services, "scenarios_run": e.scenarios_run,
                         "seconds": round(e.seconds, 1), "caught_by": [_outcome(o) for o in e.caught_by],
                         "error": e.error} for e in self.entries],
        }

    def write(self, folder: Path) -> Path:
        """Write kill-matrix.json and kill-matrix.md into the folder; return the JSON's path."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kill-matrix.md").write_text(markdown(self), encoding="utf-8")
        path = folder / "kill-matrix.json"
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")
        return path


def markdown(matrix: Matrix) -> str:
    """The matrix as a Markdown table (kill-matrix.md): each defect, what a user would notice, who caught it and how."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"Kill matrix of '{matrix.project}', {matrix.started_at:%Y-%m-%d}: {matrix.summary()}.", "",
             "| defect | what a user would notice | scenarios run | caught by | first failure message |",
             "| --- | --- | --- | --- | --- |"]
    for entry in matrix.entries:
        caught = "<br>".join(cell(o.scenario) for o in entry.caught_by) or (
            entry.how or (f"**{entry.verdict.upper()}**" + (f": {entry.defect.accepted}" if entry.defect.accepted
                                                            else "")))
        first = entry.caught_by[0].message if entry.caught_by else ""
        lines.append(f"| `{entry.defect.id}` | {cell(entry.defect.description)} | "
                     f"{cell(entry.defect.tags or 'all')} | {caught} | {cell(first)} |")
    return "\n".join(lines) + "\n"


def _outcome(outcome: Outcome) -> dict:
    return {"scenario": outcome.scenario, "status": outcome.status, "message": outcome.message}


def duration(seconds: float) -> str:
    """Seconds as people read them: ``42s``, ``3m05s``, ``1h02m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
