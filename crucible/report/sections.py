"""Report sections that are not scenarios: the whole run's contract coverage and can-i-deploy matrix.

Each is printed on the console by ``crucible report`` and attached to the report as a *global
attachment* (Allure's ``*-globals.json``), which the single-file report shows on its own tab next to
the results, for a stakeholder to open without a terminal.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

log = logging.getLogger("crucible.report")

GLOBALS_FILE = "crucible-sections-globals.json"


def attachment_name(title: str) -> str:
    """The results-folder file name of a section's attachment: ``crucible-contract-coverage-attachment.txt``."""
    slug = "-".join(title.lower().replace("/", " ").split())
    return f"crucible-{slug}-attachment.txt"


def write(results_dir: Path, sections: dict[str, str]) -> None:
    """Attach each non-empty section (title -> text) to the report, replacing what an earlier report wrote."""
    sections = {title: text for title, text in sections.items() if text}
    path = results_dir / GLOBALS_FILE
    if not sections:
        path.unlink(missing_ok=True)
        return
    stamp = int(time.time() * 1000)
    attachments = []
    for title, text in sections.items():
        name = attachment_name(title)
        (results_dir / name).write_text(text + "\n", encoding="utf-8")
        attachments.append({"name": title, "source": name, "type": "text/plain", "timestamp": stamp})
    path.write_text(json.dumps({"attachments": attachments, "errors": []}, indent=1) + "\n", encoding="utf-8")
    log.debug("wrote %d report section(s) to %s", len(attachments), path)
