"""The Allure side of a run: metadata for the results, the single-file report, a summary."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import javaproperties

from crucible.errors import ReportError  # noqa: F401  (re-exported: callers import it from here)
from crucible.report import offline

log = logging.getLogger("crucible.report")

STATUSES = ("passed", "failed", "broken", "skipped", "unknown")
GENERATE_TIMEOUT_S = 180.0
TAIL_LINES = 20
GIT_TIMEOUT_S = 10.0
REPORT_URL_ENV = "CRUCIBLE_REPORT_URL"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


NODE_DIR = Path(__file__).resolve().parent / "node"
CONFIG = Path(__file__).resolve().parent / "allurerc.mjs"
HOME_ENV = "CRUCIBLE_HOME"
NPM_TIMEOUT_S = 600.0
INSTALLED_STAMP = ".crucible-installed"


def tool_home() -> Path:
    """Where Crucible keeps the tools it installs: $CRUCIBLE_HOME, else ~/.cache/crucible."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".cache" / "crucible").expanduser()


def allure_version() -> str:
    """The Allure 3 CLI version that the packaged package-lock.json pins."""
    return json.loads((NODE_DIR / "package.json").read_text(encoding="utf-8"))["devDependencies"]["allure"]


def node_files() -> list[Path]:
    """What an install is made from: package.json, the lock file and the reviewed patches, in a fixed order."""
    return [NODE_DIR / "package.json", NODE_DIR / "package-lock.json", *sorted((NODE_DIR / "patches").glob("*.patch"))]


def install_name() -> str:
    """The install's folder name: the Allure version and a digest of what it is made from, so a changed lock
    file or patch gets a fresh install beside the old one."""
    digest = hashlib.sha256()
    for path in node_files():
        digest.update(path.relative_to(NODE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"allure-{allure_version()}-{digest.hexdigest()[:10]}"


def allure_cli() -> Path:
    """Path of the pinned Allure CLI (installed by :func:`ensure_allure`)."""
    return tool_home() / install_name() / "node_modules" / ".bin" / "allure"


def allure_installed() -> bool:
    """True once `npm ci` (with its patches) finished in the install folder: a cut-short install does not count."""
    return (allure_cli().parents[2] / INSTALLED_STAMP).is_file()


def ensure_allure() -> Path:
    """Install the pinned Allure CLI with `npm ci` from the packaged lock file, once; return its path.

    npm ci runs the package's postinstall, patch-package, which applies the reviewed patches in
    ``node/patches`` (the report loads nothing from outside the file) and fails the install when one no
    longer applies (after an Allure upgrade: review the patch again).
    """
    cli = allure_cli()
    if allure_installed():
        return cli
    npm = shutil.which("npm")
    if npm is None:
        raise ReportError("The report needs Node.js 20+ and npm, and npm is not installed: install Node.js "
                          "(e.g. `apt-get install nodejs npm`), then run `crucible setup`.")
    target = cli.parent.parent.parent
    target.mkdir(parents=True, exist_ok=True)
    for path in node_files():
        (target / path.relative_to(NODE_DIR)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.relative_to(NODE_DIR))
    log.info("Installing the Allure %s report tool into %s (npm ci) ...", allure_version(), target)
    try:
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                              capture_output=True, text=True, timeout=NPM_TIMEOUT_S, env=_node_env(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ReportError(f"npm ci in {target} did not finish within {NPM_TIMEOUT_S:.0f}s") from None
    if proc.returncode != 0 or not cli.exists():
        raise ReportError(f"npm ci in {target} failed (exit {proc.returncode}):\n{_tail(proc.stderr or proc.stdout)}")
    (target / INSTALLED_STAMP).write_text(allure_version() + "\n", encoding="utf-8")
    return cli


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


def read_environment(results_dir: Path) -> dict[str, str]:
    """The properties of environment.properties in the results directory (empty when there is none)."""
    path = results_dir / "environment.properties"
    if not path.is_file():
        return {}
    with path.open(encoding="latin-1") as file:  # java.util.Properties' rules, as Allure reads the file
        return javaproperties.load(file)


def write_executor(results_dir: Path, info: dict) -> None:
    """Write executor.json (Allure reads name, type, url, buildName, buildOrder, buildUrl, reportUrl)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "executor.json"
    path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.debug("wrote %s", path)


def write_unfinished(results_dir: Path, full_name: str, key: str, message: str) -> Path:
    """Write a broken result for a scenario that never finished (its worker died): the report shows it."""
    results_dir.mkdir(parents=True, exist_ok=True)
    feature, _, name = full_name.partition(": ")
    stamp = int(time.time() * 1000)
    result = {
        "uuid": str(uuid.uuid4()), "historyId": hashlib.md5(key.encode()).hexdigest(), "name": name or full_name,
        "fullName": full_name, "status": "broken", "stage": "finished", "start": stamp, "stop": stamp,
        "statusDetails": {"message": message},
        "labels": [{"name": "feature", "value": feature}, {"name": "defect", "value": "environment"}],
    }
    path = results_dir / f"{result['uuid']}-result.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last lines of a command's output, without colour codes."""
    return "\n".join(_ANSI.sub("", text).strip().splitlines()[-lines:])


def _node_env() -> dict[str, str]:
    """The environment for the Node commands: ours, without colour codes in their output."""
    return {**os.environ, "NO_COLOR": "1"}


def history_runs(history: Path) -> int:
    """How many earlier reports the history file holds (one JSON line each)."""
    try:
        return sum(1 for line in history.read_text(encoding="utf-8").splitlines() if line.strip())
    except FileNotFoundError:
        return 0


def generate(results_dir: Path, output: Path, *, history: Path | None = None, name: str = "Crucible",
             cli: Path | None = None, timeout: float = GENERATE_TIMEOUT_S) -> Path:
    """Render the results as the single-file report with the pinned CLI; return the path of its index.html.

    With ``history``, the report reads and extends that history file (the trend).
    """
    if cli is None and not allure_installed():
        raise ReportError(f"the Allure CLI is not installed in {allure_cli().parents[2]}: run `crucible setup`")
    cli = cli or allure_cli()
    if not cli.exists():
        raise ReportError(f"the Allure CLI is not installed ({cli} is missing): run `crucible setup`")
    if not results_dir.is_dir():
        raise ReportError(f"no Allure results to report: {results_dir} is not a directory")
    index = output / "index.html"
    index.unlink(missing_ok=True)
    command = [str(cli), "generate", "--config", str(CONFIG), str(results_dir.resolve())]
    env = {**_node_env(), "CRUCIBLE_REPORT_RESULTS": str(results_dir.resolve()),
           "CRUCIBLE_REPORT_OUTPUT": str(output.resolve()), "CRUCIBLE_REPORT_NAME": name}
    if history is not None:
        history = history.resolve()
        history.parent.mkdir(parents=True, exist_ok=True)
        env["CRUCIBLE_REPORT_HISTORY"] = str(history)
    log.info("generating the Allure report from %s", results_dir)
    start = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=output.parent if output.parent.is_dir() else None,
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise ReportError(f"allure generate did not finish within {timeout:g}s: {' '.join(command)}") from exc
    except OSError as exc:
        raise ReportError(f"cannot run {cli}: {exc} (is Node.js installed? run `crucible setup`)") from exc
    if proc.returncode != 0:
        raise ReportError(
            f"allure generate failed (exit {proc.returncode}): {' '.join(command)}\n"
            f"{_tail(proc.stderr) or _tail(proc.stdout)}"
        )
    if not index.is_file():
        raise ReportError(f"allure generate succeeded but wrote no {index}")
    offline.check(index)
    log.info("Allure report written in %.1fs: %s", time.monotonic() - start, index)
    return index


def _status(result: dict) -> str:
    """Allure status of one result, 'unknown' when missing or not one of Allure's five."""
    status = result.get("status")
    return status if status in STATUSES else "unknown"


def load_results(results_dir: Path) -> list[dict]:
    """The results in the directory, the latest of each historyId as the report shows them.

    An unreadable result file comes back as ``{"name": <file name>, "status": "unknown"}``.
    """
    latest: dict[str, tuple[int, dict]] = {}
    loose: list[dict] = []
    for path in sorted(results_dir.glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            log.warning("unreadable Allure result %s counted as unknown: %s", path.name, exc)
            loose.append({"name": path.name, "status": "unknown"})
            continue
        history_id = result.get("historyId")
        if not history_id:
            loose.append(result)
            continue
        stop = result.get("stop") or result.get("start") or 0
        if history_id not in latest or stop >= latest[history_id][0]:
            latest[history_id] = (stop, result)
    return loose + [result for _, result in latest.values()]


def count(results: list[dict]) -> dict:
    """Count loaded results by Allure status and in total."""
    counts = dict.fromkeys(STATUSES, 0)
    for result in results:
        counts[_status(result)] += 1
    return {**counts, "total": sum(counts.values())}


def summarise(results_dir: Path) -> dict:
    """Count results by Allure status and in total, the latest of each historyId as the report does."""
    return count(load_results(results_dir))


def _iso(epoch_ms: int) -> str:
    """Milliseconds since the epoch as an ISO 8601 UTC time, to the second."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_times(results: list[dict]) -> dict[str, str]:
    """run.start, run.end and run.duration of the results (the first start to the last stop); empty without results."""
    starts = [r["start"] for r in results if isinstance(r.get("start"), int)]
    stops = [r["stop"] for r in results if isinstance(r.get("stop"), int)]
    if not starts or not stops:
        return {}
    start, end = min(starts), max(stops)
    return {"run.start": _iso(start), "run.end": _iso(end), "run.duration": f"{(end - start) / 1000:.1f}s"}


def git_commit(repo_root: Path) -> str | None:
    """The checked-out commit (short id and subject, '+ local changes' when the tree is dirty), or None outside git."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=repo_root, capture_output=True, text=True, timeout=GIT_TIMEOUT_S)
        if proc.returncode != 0:
            raise OSError(proc.stderr.strip())
        return proc.stdout.strip()
    try:
        commit = git("log", "-1", "--format=%h %s")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("no git commit for the report: %s", exc)
        return None
    return f"{commit} + local changes" if dirty else commit


def ci_build() -> dict:
    """What the CI service says about this build (type, name, order, URL), from its standard variables; {} locally."""
    env = os.environ
    if env.get("GITHUB_ACTIONS") == "true":
        url = f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env.get('GITHUB_REPOSITORY')}" \
              f"/actions/runs/{env.get('GITHUB_RUN_ID')}"
        return {"type": "github", "buildOrder": env.get("GITHUB_RUN_NUMBER"), "buildUrl": url}
    if env.get("GITLAB_CI") == "true":
        return {"type": "gitlab", "buildOrder": env.get("CI_PIPELINE_IID"), "buildUrl": env.get("CI_JOB_URL")}
    if env.get("JENKINS_URL"):
        return {"type": "jenkins", "buildOrder": env.get("BUILD_NUMBER"), "buildUrl": env.get("BUILD_URL")}
    return {}


def executor_info(environment: dict[str, str], earlier_runs: int) -> dict:
    """executor.json for this run: Crucible, the run id as build name, CI details and $CRUCIBLE_REPORT_URL if set."""
    ci = ci_build()
    run_id = environment.get("run.id")
    order = ci.get("buildOrder")
    info = {
        "name": "Crucible",
        "type": ci.get("type", "local"),
        "reportName": "Crucible",
        "buildName": f"Crucible run {run_id}" if run_id else f"Crucible run #{earlier_runs + 1}",
        "buildOrder": int(order) if str(order or "").isdigit() else earlier_runs + 1,
        "buildUrl": ci.get("buildUrl"),
        "reportUrl": os.environ.get(REPORT_URL_ENV),
    }
    return {key: value for key, value in info.items() if value is not None}


def complete_results(results_dir: Path, repo_root: Path, history: Path | None = None,
                     results: list[dict] | None = None) -> dict[str, str]:
    """Add what is only known at the end to the results: run times and git commit in the environment, executor.json.

    ``results`` are the loaded results if the caller has them already. Returns the environment as written.
    """
    results = load_results(results_dir) if results is None else results
    environment = read_environment(results_dir)
    commit = git_commit(repo_root)
    extra = {**run_times(results), **({"git.commit": commit} if commit else {})}
    environment.update(extra)
    write_environment(results_dir, environment)
    write_executor(results_dir, executor_info(environment, history_runs(history) if history else 0))
    return environment


def one_line(summary: dict) -> str:
    """The run's one count, e.g. '12 scenarios: 10 passed, 2 failed (1 of them broken), 0 skipped'.

    Broken scenarios (an error, not a failed assertion) are failed ones: the CI line says the same numbers.
    """
    total = summary.get("total", 0)
    noun = "scenario" if total == 1 else "scenarios"
    failed = summary.get("failed", 0) + summary.get("broken", 0)
    broken = f" ({summary['broken']} of them broken: an error, not a failed check)" if summary.get("broken") else ""
    parts = [f"{summary.get('passed', 0)} passed", f"{failed} failed{broken}", f"{summary.get('skipped', 0)} skipped"]
    if summary.get("unknown"):
        parts.append(f"{summary['unknown']} unknown")
    return f"{total} {noun}: " + ", ".join(parts)