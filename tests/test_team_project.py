"""A new team's own stack, end to end, exactly as README's "Crucible in your own repository" says.

In an empty folder outside this repository: install Crucible into a fresh venv (from a copy of
the checkout), put the team's compose file there (tests/team/compose.yaml: an HTTP service of
software nobody here wrote, RabbitMQ configured the way teams configure the official image,
PostgreSQL configured the way teams configure the official image), `crucible init`, add the
settings and the generic-step features a team would write (tests/team/), `crucible check`,
`crucible docs`, `crucible run` -- no Python written, the compose file untouched. The images the
compose file names are stand-ins built here from Debian's packages (tests/team/images/), tagged
per $CRUCIBLE_IMAGE_TAG through the version variables the compose file reads.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crucible.vocabulary import catalogue as catalogue_module

ROOT = Path(__file__).resolve().parents[1]
TEAM = ROOT / "tests" / "team"
TAG = re.sub(r"[^a-z0-9_.-]", "-", os.environ.get("CRUCIBLE_IMAGE_TAG", "dev").lower())
# stand-in folder -> (the variable the team's compose file reads, its value here, the official image's name)
STAND_INS = {
    "httpbin": ("HTTPBIN_TAG", f"crucible-{TAG}", "kennethreitz/httpbin"),
    "rabbitmq": ("RABBITMQ_TAG", f"3.10-management-crucible-{TAG}", "rabbitmq"),
    "postgres": ("POSTGRES_TAG", f"15-crucible-{TAG}", "postgres"),
}
SCENARIOS = 6  # the smoke feature's two, and one in each of tests/team/features
TIMEOUT_S = 900
STARTER = ["crucible.toml", "environment.py", "features/smoke.feature", "steps/crucible_steps.py"]


def team_environment() -> dict[str, str]:
    """A new user's environment: none of this repository's Crucible settings, the image versions set."""
    keep = {"CRUCIBLE_HOME"}  # where the report tool is cached, not a setting
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith("CRUCIBLE_") or k in keep) and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({variable: tag for variable, tag, _ in STAND_INS.values()})
    return env


@pytest.fixture(scope="module")
def stand_in_images(engine_client):
    """Build the stand-ins of the official images the team's compose file names."""
    for folder, (_, tag, repository) in STAND_INS.items():
        engine_client.images.build(path=str(TEAM / "images" / folder), tag=f"{repository}:{tag}", rm=True, pull=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The team's folder, holding only their compose file (a folder name unique to this checkout)."""
    folder = tmp_path_factory.mktemp("repos") / f"parcels-{TAG}"
    folder.mkdir()
    shutil.copy(TEAM / "compose.yaml", folder / "compose.yaml")
    return folder


@pytest.fixture(scope="module")
def crucible_command(project, tmp_path_factory) -> Path:
    """README: `python3 -m venv .venv && .venv/bin/pip install /path/to/crucible -c .../constraints.txt`, then
    `.venv/bin/crucible init`. The checkout is copied first, since pip builds in the folder it is given."""
    source = tmp_path_factory.mktemp("checkout") / "crucible"
    shutil.copytree(ROOT / "crucible", source / "crucible", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=project, check=True, timeout=120)
    subprocess.run([".venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", str(source),
                    "-c", str(source / "constraints.txt")], cwd=project, check=True, timeout=600,
                   env=team_environment())
    command = project / ".venv" / "bin" / "crucible"
    init = crucible(command, project, "init")
    assert init.returncode == 0, init.stderr
    return command


def crucible(command: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed `crucible` command in the team's folder, as the team would."""
    return subprocess.run([str(command), *args], cwd=folder, env=team_environment(), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)


def test_the_installed_package_is_the_harness_alone(crucible_command):
    python = crucible_command.parent / "python"
    found = subprocess.run([str(python), "-c", "import crucible.vocabulary.steps; import retail"],
                           capture_output=True, text=True, env=team_environment(), cwd="/")
    assert "No module named 'retail'" in found.stderr, found.stderr


def team_files(project: Path) -> list[Path]:
    """The files of the team's folder, without its virtualenv."""
    return [p for p in project.rglob("*") if p.is_file() and ".venv" not in p.relative_to(project).parts]


def test_init_writes_a_starter_project_against_the_team_compose_file(crucible_command, project):
    assert sorted(p.relative_to(project).as_posix() for p in team_files(project)) == sorted(["compose.yaml", *STARTER])
    assert (project / "compose.yaml").read_text() == (TEAM / "compose.yaml").read_text()
    assert 'compose = ["compose.yaml"]' in (project / "crucible.toml").read_text()
    assert len((project / "environment.py").read_text().splitlines()) == 1
    assert len((project / "steps" / "crucible_steps.py").read_text().splitlines()) == 1
    assert 'When I send a GET request to "api" at "/"' in (project / "features" / "smoke.feature").read_text()
    everything = "\n".join((project / name).read_text() for name in STARTER)
    for retail in ("retail", "orders", "inventory", "Alice", "store"):
        assert retail not in everything, f"the starter project mentions {retail!r}"


def team_writes_features_and_settings(project: Path) -> None:
    """What the team adds: its settings (appended to the file init wrote) and its features."""
    settings = project / "crucible.toml"
    if "[broker]" not in settings.read_text().replace("# [broker]", ""):
        settings.write_text(settings.read_text() + (TEAM / "crucible-settings.toml").read_text())
    for feature in (TEAM / "features").glob("*.feature"):
        shutil.copy(feature, project / "features" / feature.name)


def test_check_accepts_the_team_compose_file_as_it_is(crucible_command, project, stand_in_images):
    checked = crucible(crucible_command, project, "check")
    assert checked.returncode == 0, checked.stderr
    assert f"project 'parcels-{TAG}'" in checked.stderr


def test_the_catalogue_holds_the_generic_vocabulary_only(crucible_command, project):
    written = crucible(crucible_command, project, "docs")
    assert written.returncode == 0, written.stderr
    catalogue = (project / "docs" / "steps.md").read_text()
    generic = [s for s in catalogue_module.collect(ROOT / "steps") if s.module in catalogue_module.GENERIC]
    assert re.findall(r"^## (.+)$", catalogue, re.M) == ["Contents", *(s.title for s in generic)]
    steps = re.findall(r"^### (.+)$", catalogue, re.M)
    assert steps == [line for s in generic for line in re.findall(r"^### (.+)$", catalogue_module.render([s]), re.M)]
    assert "retail" not in catalogue


def test_run_passes_with_a_report_and_never_imports_retail(crucible_command, project, stand_in_images):
    team_writes_features_and_settings(project)
    env = {**team_environment(), "PYTHONPROFILEIMPORTTIME": "1"}  # every module any process imports
    run = subprocess.run([str(crucible_command), "run"], cwd=project, env=env, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
    output = run.stdout + "".join(line for line in run.stderr.splitlines(True) if not line.startswith("import time:"))
    assert run.returncode == 0, output[-6000:]
    assert f"scenarios: {SCENARIOS} passed, 0 failed, 0 skipped" in run.stdout, output[-6000:]
    report = project / "reports" / "allure-report" / "index.html"
    assert report.is_file() and report.stat().st_size > 100_000
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)\s*$", run.stderr, re.M))
    assert "crucible.vocabulary.steps.messaging_steps" in imported  # the run's imports are really listed
    assert "behave.runner" in imported
    assert not [m for m in imported if m == "retail" or m.startswith("retail.")]
