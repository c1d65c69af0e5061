"""The Allure side of a run: metadata for the results, the single-file report, a summary."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import time
from pathlib import Path

from crucible.errors import CrucibleError

log = logging.getLogger("crucible.report")

STATUSES = ("passed", "failed", "broken", "skipped", "unknown")
GENERATE_TIMEOUT_S = 180.0
CONFIG_TIMEOUT_S = 30.0
TAIL_LINES = 20

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Node prints the default export's "output" of the Allure config it is given (argv[1], a file URL).
_READ_OUTPUT_JS = (
    "const m = await import(process.argv[1]);"
    "process.stdout.write(JSON.stringify((m.default ?? {}).output ?? null));"
)


class ReportError(CrucibleError):
    """The Allure report could not be generated."""


def allure_cli(repo_root: Path) -> Path:
    """Path of the Allure CLI that package-lock.json pins (installed by npm into node_modules)."""
    return repo_root / "node_modules" / ".bin" / "allure"


def _escape_property(text: str, *, key: bool) -> str:
    """Escape text as a java.util.Properties key or value, keeping the file ASCII."""
    out = []
    for i, char in enumerate(text):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char == "\f":
            out.append("\\f")
        elif char == " " and (key or i == 0):
            out.append("\\ ")
        elif key and char in "=:#!":
            out.append("\\" + char)
        elif code < 0x20 or code > 0x7E:
            encoded = char.encode("utf-16-be")
            units = (int.from_bytes(encoded[j:j + 2], "big") for j in range(0, len(encoded), 2))
            out.extend(f"\\u{unit:04x}" for unit in units)
        else:
            out.append(char)
    return "".join(out)


def write_environment(results_dir: Path, properties: dict[str, str]) -> None:
    """Write environment.properties (the report's Environment widget) into the results directory."""
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{_escape_property(str(name), key=True)}={_escape_property(str(value), key=False)}"
        for name, value in properties.items()
    ]
    path = results_dir / "environment.properties"
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    log.debug("wrote %s (%d entries)", path, len(lines))


def write_executor(results_dir: Path, info: dict) -> None:
    """Write executor.json (Allure reads name, type, url, buildName, buildOrder, buildUrl, reportUrl)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "executor.json"
    path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.debug("wrote %s", path)


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last lines of a command's output, without colour codes."""
    return "\n".join(_ANSI.sub("", text).strip().splitlines()[-lines:])


def _node_env() -> dict[str, str]:
    """The environment for the Node commands: ours, without colour codes in their output."""
    return {**os.environ, "NO_COLOR": "1"}


def report_dir(config: Path, repo_root: Path) -> Path:
    """The directory that the Allure config writes its report to, as Allure resolves it from repo_root."""
    if config.suffix == ".json":
        output = json.loads(config.read_text(encoding="utf-8")).get("output")
    else:
        try:
            proc = subprocess.run(
                ["node", "--input-type=module", "-e", _READ_OUTPUT_JS, config.resolve().as_uri()],
                cwd=repo_root, capture_output=True, text=True,
                timeout=CONFIG_TIMEOUT_S, env=_node_env(),
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReportError(f"cannot read the Allure config {config}: {exc}") from exc
        if proc.returncode != 0:
            raise ReportError(f"cannot read the Allure config {config}:\n{_tail(proc.stderr)}")
        output = json.loads(proc.stdout or "null")
    return (repo_root / (output or "allure-report")).resolve()


def generate(results_dir: Path, config: Path, repo_root: Path, *,
             timeout: float = GENERATE_TIMEOUT_S) -> Path:
    """Render the results as the single-file report with the pinned CLI; return the path of its index.html."""
    cli = allure_cli(repo_root)
    if not cli.exists():
        raise ReportError(f"the Allure CLI is not installed ({cli} is missing): run make setup")
    if not config.is_file():
        raise ReportError(f"the Allure config {config} does not exist")
    if not results_dir.is_dir():
        raise ReportError(f"no Allure results to report: {results_dir} is not a directory")
    index = report_dir(config, repo_root) / "index.html"
    index.unlink(missing_ok=True)
    command = [str(cli), "generate", "--config", str(config.resolve()), str(results_dir.resolve())]
    log.info("generating the Allure report from %s", results_dir)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            command, cwd=repo_root, capture_output=True, text=True, timeout=timeout, env=_node_env()
        )
    except subprocess.TimeoutExpired as exc:
        raise ReportError(f"allure generate did not finish within {timeout:g}s: {' '.join(command)}") from exc
    except OSError as exc:
        raise ReportError(f"cannot run {cli}: {exc} (is Node.js installed? run make setup)") from exc
    if proc.returncode != 0:
        raise ReportError(
            f"allure generate failed (exit {proc.returncode}): {' '.join(command)}\n"
            f"{_tail(proc.stderr) or _tail(proc.stdout)}"
        )
    if not index.is_file():
        raise ReportError(
            f"allure generate succeeded but wrote no {index}: the config must enable the awesome plugin only"
        )
    log.info("Allure report written in %.1fs: %s", time.monotonic() - start, index)
    return index


def _status(result: dict) -> str:
    """Allure status of one result, 'unknown' when missing or not one of Allure's five."""
    status = result.get("status")
    return status if status in STATUSES else "unknown"


def summarise(results_dir: Path) -> dict:
    """Count results by Allure status and in total, the latest of each historyId as the report does."""
    latest: dict[str, tuple[int, str]] = {}
    counts = dict.fromkeys(STATUSES, 0)
    for path in sorted(results_dir.glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            log.warning("unreadable Allure result %s counted as unknown: %s", path.name, exc)
            counts["unknown"] += 1
            continue
        history_id = result.get("historyId")
        if not history_id:
            counts[_status(result)] += 1
            continue
        stop = result.get("stop") or result.get("start") or 0
        if history_id not in latest or stop >= latest[history_id][0]:
            latest[history_id] = (stop, _status(result))
    for _, status in latest.values():
        counts[status] += 1
    return {**counts, "total": sum(counts.values())}


def one_line(summary: dict) -> str:
    """The summary as one line, e.g. '12 scenarios: 11 passed, 1 failed, 0 broken, 0 skipped'."""
    total = summary.get("total", 0)
    noun = "scenario" if total == 1 else "scenarios"
    parts = [f"{summary.get(status, 0)} {status}" for status in ("passed", "failed", "broken", "skipped")]
    if summary.get("unknown"):
        parts.append(f"{summary['unknown']} unknown")
    return f"{total} {noun}: " + ", ".join(parts)
