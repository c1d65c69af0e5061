"""Nothing secret in the report: the results and the rendered page are searched after every run.

``crucible run`` and ``crucible report`` search every file of the results folder (attachments, and
the text of each result: names, parameters, messages, traces) for the secrets of
:mod:`crucible.secrets`: card numbers, JWTs, bearer tokens, passwords and the stack's own secret
values. What is found is removed from the results before the report is made (a card number down
to its last four digits, anything else ``***``), the report gets one *broken* result under
*Environment problems* naming each attachment and the kind of secret, and the run fails. Test data
in the feature files' own text (step docstrings and tables) is hidden too, but fails nothing: it is
in the repository already. The
rendered page is then searched again; if anything is still there, the page is removed.
Messages name places and kinds, never the secret.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from crucible import secrets
from crucible.errors import CrucibleError, ReportError
from crucible.secrets import Secrets, describe
from crucible.stack import session


RESULT_FILES = ("-result.json", "-container.json")
# allure-behave attaches a step's docstring and table as ".text" and ".table": the feature file's own words,
# in the repository already. Secrets there are hidden like any other, but do not fail the run.
FEATURE_TEXT = (".text", ".table")
SAFETY_ID = "crucible-report-safety"
_EMBEDDED = re.compile(r'd\("([^"]+)","([A-Za-z0-9+/=]*)"\)')
log = logging.getLogger(__name__)


def project_secrets(options) -> Secrets:
    """The run's secrets: every shape, the compose file's secret values and the settings' (only the settings'
    when the compose file cannot be read)."""
    try:
        return secrets.of_project(session.load_project(options), options)
    except CrucibleError as exc:
        log.warning("Secrets are looked for by their shape and the settings' values only: the compose file cannot "
                    "be read for its secret values (%s)", exc)
        return secrets.of_settings(options)


@dataclass(frozen=True)
class Leak:
    """Secrets found in one place of the results or the report: where, and how many of which kind."""

    place: str
    kinds: Counter

    def __str__(self) -> str:
        return f"{self.place}: {describe(self.kinds)}"


def embedded_files(html: str) -> dict[str, str]:
    """The files a single-file Awesome report embeds as base64, decoded, by path."""
    return {name: base64.b64decode(data).decode("utf-8", "replace") for name, data in _EMBEDDED.findall(html)}


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (keys and values), numbers left out (times are not card numbers)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _map_strings(value: Any, change) -> Any:
    """A JSON value with change() applied to every string value."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    return value


def _attachments(node: dict, scenario: str) -> Iterator[tuple[str, str | None]]:
    """(source file, place) of every attachment of a result or container, its steps' and fixtures' too; the
    place is None for the feature's own text."""
    for attachment in node.get("attachments") or []:
        if isinstance(attachment, dict) and attachment.get("source"):
            name = attachment.get("name") or attachment["source"]
            yield attachment["source"], None if name in FEATURE_TEXT else f"attachment '{name}' of {scenario}"
    for key in ("steps", "befores", "afters"):
        for child in node.get(key) or []:
            if isinstance(child, dict):
                yield from _attachments(child, scenario)


def _read_json(path: Path) -> Any:
    """A results file as JSON, or None when it is not."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def places(results_dir: Path) -> dict[str, str | None]:
    """File name -> what a reader calls it: ``attachment 'orders logs' of 'Feature: Scenario'`` or ``the result
    of 'Feature: Scenario'`` (None: the feature's own text)."""
    named = {}
    for path in sorted(results_dir.iterdir()):
        if not path.name.endswith(RESULT_FILES):
            continue
        data = _read_json(path)
        if not isinstance(data, dict):
            continue
        scenario = f"'{data.get('fullName') or data.get('name') or path.name}'"
        named[path.name] = f"the result of {scenario}"
        named.update(_attachments(data, scenario))
    return named


def _text(path: Path) -> str | None:
    """A results file's text (for result files: their strings only), or None for a binary file."""
    raw = path.read_bytes()
    if b"\0" in raw[:8192]:
        return None
    if path.name.endswith(RESULT_FILES):
        data = _read_json(path)
        if data is not None:
            return "\n".join(_strings(data))
    return raw.decode("utf-8", "replace")


def scan_results(results_dir: Path, secrets: Secrets) -> list[Leak]:
    """Every file of the results folder that holds a secret, named as a reader knows it."""
    named = places(results_dir)
    leaks = []
    for path in sorted(results_dir.iterdir()):
        if named.get(path.name, "") is None:
            continue
        text = _text(path) if path.is_file() else None
        kinds = secrets.kinds(text) if text else Counter()
        if kinds:
            leaks.append(Leak(f"{named.get(path.name) or 'the file'} ({path.name})", kinds))
    return leaks


def redact_results(results_dir: Path, secrets: Secrets) -> None:
    """Hide every secret in the results folder's files, in place (result files stay valid JSON)."""
    for path in sorted(results_dir.iterdir()):
        text = _text(path) if path.is_file() else None
        if not text or not secrets.kinds(text):
            continue
        data = _read_json(path) if path.name.endswith(RESULT_FILES) else None
        if data is not None:
            path.write_text(json.dumps(_map_strings(data, secrets.redact)), encoding="utf-8")
        else:
            path.write_text(secrets.redact(path.read_bytes().decode("utf-8", "replace")), encoding="utf-8")


def message(leaks: list[Leak]) -> str:
    """What was found, where, in words (never the secret)."""
    return (f"Secrets were found in {len(leaks)} place(s) of the run's results and removed before the report was "
            f"made, so the report is safe to forward; find the step or service that wrote them:\n"
            + "\n".join(f"  {leak}" for leak in leaks))


def is_finding(result: dict) -> bool:
    """True for the result :func:`add_finding` writes (it is not a scenario: kept out of the run's count)."""
    return result.get("historyId") == SAFETY_ID


def add_finding(results_dir: Path, leaks: list[Leak]) -> None:
    """Add one broken result (Environment problems) naming each place and kind of secret found."""
    now = int(time.time() * 1000)
    result = {
        "uuid": str(uuid.uuid4()), "historyId": SAFETY_ID, "testCaseId": SAFETY_ID,
        "name": "Nothing secret in the report", "fullName": "Report safety: Nothing secret in the report",
        "status": "broken", "statusDetails": {"message": message(leaks)}, "start": now, "stop": now,
        "labels": [{"name": "epic", "value": "Report safety"}, {"name": "feature", "value": "Report safety"},
                   {"name": "severity", "value": "critical"}, {"name": "defect", "value": "environment"}],
    }
    (results_dir / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")


def clean_results(results_dir: Path, secrets: Secrets) -> list[Leak]:
    """Search the results; hide what is found (also in the feature's own text) and, for anything but the
    feature's own text, add a broken result saying where. Return what was found."""
    leaks = scan_results(results_dir, secrets)
    redact_results(results_dir, secrets)
    if leaks:
        add_finding(results_dir, leaks)
    return leaks


def check_page(index: Path, secrets: Secrets) -> None:
    """Remove a rendered report that still shows a secret, with a ReportError naming where and what kind."""
    html = index.read_text(encoding="utf-8", errors="replace")
    leaks = [Leak(f"the report's {name}", kinds) for name, text in embedded_files(html).items()
             if (kinds := secrets.kinds(text))]
    page = _EMBEDDED.sub("", re.sub(r'"data:[^"]*"', '""', html))
    if kinds := secrets.kinds(page):
        leaks.append(Leak("the report page", kinds))
    if leaks:
        index.unlink()
        raise ReportError(f"The report was removed: it shows secrets in {len(leaks)} place(s):\n"
                          + "\n".join(f"  {leak}" for leak in leaks))
