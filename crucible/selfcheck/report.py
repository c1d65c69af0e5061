"""The self-check as an Allure report a stakeholder can open from disk: one result per defect, the unbroken runs,
and the kill matrix as a table.

A caught defect is *passed* (its steps name the scenarios that caught it, with their first failure
message); a survivor is *broken* under "Test defects" (the suite has a gap), an accepted survivor is
*skipped* with its reason, and a false alarm makes its unbroken run broken. The defect's patch is
attached to its result, the whole matrix to the "Kill matrix" result (a table, and the JSON).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (Attachment, Label, Parameter, Status, StatusDetails, TestResult,
                                   TestStepResult)

from crucible.report import results as allure_results
from crucible.selfcheck.matrix import ACCEPTED, CAUGHT, ERROR, NOT_RUN, SURVIVED, Entry, Matrix, duration

EPIC = "Self-check"
FEATURES = {"defect": "Defect catalogue", "mutant": "Automatic mutants"}


def _history_id(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class _Writer:
    """Writes Allure results and attachments into one folder."""

    def __init__(self, folder: Path, started_ms: int):
        self.logger = AllureFileLogger(folder, clean=True)
        self.start = started_ms

    def attach(self, name: str, body: str, mime: str, extension: str) -> Attachment:
        file_name = f"{uuid.uuid4()}-attachment.{extension}"
        self.logger.report_attached_data(body=body, file_name=file_name)
        return Attachment(name=name, source=file_name, type=mime)

    def result(self, *, name: str, key: str, feature: str, status: str, message: str | None = None,
               description: str | None = None, steps=(), attachments=(), seconds: float = 0.0,
               defect_label: str | None = None, story: str | None = None) -> None:
        labels = [Label("epic", EPIC), Label("feature", feature)]
        if story:
            labels.append(Label("story", story))
        if defect_label:
            labels.append(Label("defect", defect_label))
        stop = self.start + int(seconds * 1000)
        self.logger.report_result(TestResult(
            uuid=str(uuid.uuid4()), historyId=_history_id(key), testCaseId=_history_id(key), fullName=key,
            name=name, status=status, stage="finished", description=description,
            statusDetails=StatusDetails(message=message) if message else None, labels=labels,
            steps=list(steps), attachments=list(attachments), start=self.start, stop=stop))
        self.start = stop


def _step(name: str, status: str, parameters: dict[str, str]) -> TestStepResult:
    return TestStepResult(name=name, status=status, stage="finished",
                          parameters=[Parameter(name=k, value=v) for k, v in parameters.items() if v])


def _defect_result(writer: _Writer, entry: Entry) -> None:
    defect = entry.defect
    status, message, label = {
        CAUGHT: (Status.PASSED, f"Caught: {entry.how}", None),
        SURVIVED: (Status.BROKEN, f"Survived: no scenario noticed it ({entry.scenarios_run} ran). Write the "
                                  f"scenario that does (README, 'Self-check').", "test"),
        ACCEPTED: (Status.SKIPPED, f"Survived, accepted: {defect.accepted}", None),
        ERROR: (Status.BROKEN, f"Could not be judged: {entry.error}", "environment"),
        NOT_RUN: (Status.SKIPPED, "Not run: the self-check's time limit was reached first", None),
    }[entry.verdict]
    steps = [_step(f"caught by {o.scenario}", Status.PASSED, {"outcome": o.status, "first failure message": o.message})
             for o in entry.caught_by]
    details = [f"**What a user would notice:** {defect.description}", f"**Defect:** `{defect.source}`",
               f"**Changes:** {', '.join(defect.files)}",
               f"**Images rebuilt:** {', '.join(entry.services) or '(none)'}",
               f"**Scenarios run:** {defect.tags or 'every scenario'} ({entry.scenarios_run})"]
    if defect.notes:
        details.append(defect.notes)
    writer.result(name=defect.description, key=f"{defect.kind}:{defect.id}", feature=FEATURES[defect.kind],
                  status=status, message=message, description="\n\n".join(details), steps=steps,
                  attachments=[writer.attach("the defect (patch)", defect.patch, "text/plain", "patch")],
                  seconds=entry.seconds, defect_label=label, story=defect.id)


def _table(matrix: Matrix) -> str:
    out = io.StringIO()
    table = csv.writer(out)
    table.writerow(["defect", "what a user would notice", "verdict", "caught by", "first failure message"])
    for entry in matrix.entries:
        first = entry.caught_by[0] if entry.caught_by else None
        table.writerow([entry.defect.id, entry.defect.description, entry.verdict,
                        "; ".join(o.scenario for o in entry.caught_by) or entry.how,
                        first.message if first else (entry.defect.accepted or "")])
    return out.getvalue()


def write(matrix: Matrix, folder: Path, name: str) -> Path:
    """Write the self-check's Allure results into ``folder``/allure-results and render ``folder``/report/index.html
    (its trend from ``folder``/history.jsonl)."""
    results = folder / "allure-results"
    writer = _Writer(results, int(matrix.started_at.timestamp() * 1000))
    alarms = matrix.false_alarms()
    for run_name, run in matrix.baseline.items():
        mine = [o for n, o in alarms if n == run_name]
        steps = [_step(o.scenario, Status.BROKEN, {"outcome": o.status, "first failure message": o.message})
                 for o in mine]
        message = (f"{len(mine)} false alarm(s): scenarios that failed against the unbroken stack" if mine
                   else run.error)
        writer.result(name=f"The unbroken stack ({run_name} run): every scenario passes",
                      key=f"unbroken:{run_name}", feature="The unbroken stack",
                      status=Status.BROKEN if mine or run.error else Status.PASSED, message=message, steps=steps,
                      seconds=run.seconds, defect_label="test" if mine else ("environment" if run.error else None))
    for entry in matrix.entries:
        _defect_result(writer, entry)
    caught, total = matrix.score()
    writer.result(name=f"Kill matrix: {caught} of {total} defects caught", key="kill-matrix", feature="Kill matrix",
                  status=Status.PASSED if matrix.passed() else Status.BROKEN, message=matrix.summary(),
                  defect_label=None if matrix.passed() else "test",
                  attachments=[writer.attach("kill matrix", _table(matrix), "text/csv", "csv"),
                               writer.attach("kill-matrix.json", json.dumps(matrix.as_json(), indent=2),
                                             "application/json", "json")])
    score = f"{caught} of {total} caught" + (f" ({100 * caught / total:.0f}%)" if total else "")
    allure_results.write_environment(results, {
        "project": matrix.project, "self-check.score": score,
        "self-check.survivors": str(len(matrix.survivors())), "self-check.false alarms": str(len(alarms)),
        "self-check.started": matrix.started_at.isoformat(timespec="seconds"),
        "self-check.duration": duration(matrix.seconds)})
    allure_results.ensure_allure()
    return allure_results.generate(results, folder / "report", history=folder / "history.jsonl", name=name)
