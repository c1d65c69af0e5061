"""``crucible self-check``: the unbroken stack, then each defect's variant, then the unbroken stack again.

Everything that can be checked without the engine is checked first (every defect applies to the
current source and touches a service the stack builds, every ``Tags:`` selects scenarios, every
step of the features exists), so a bad catalogue stops before anything is built. Progress goes to
the console as it runs (defect k of n, elapsed, an estimate of what is left); the kill matrix is
printed at the end and written as JSON and as a report.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from behave.configuration import Configuration

from crucible import signals
from crucible.errors import BuildError, StartupError
from crucible.selfcheck import catalogue, mutants, report, suite, variant
from crucible.selfcheck.catalogue import CatalogueError, Defect
from crucible.selfcheck.matrix import Entry, Matrix, duration
from crucible.selfcheck.suite import SuiteRun
from crucible.settings import Settings
from crucible.stack import session
from crucible.stack.compose import Project
from crucible.timings import Timings
from crucible.vocabulary import feature_check
from crucible.vocabulary.catalogue import shown

log = logging.getLogger("crucible.selfcheck")

MIN_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Request:
    """What to check: catalogue defects (all, or the ids named), or mutants of a target."""

    defects: tuple[str, ...] = ()
    mutants: str | None = None
    max_mutants: int = 10
    seed: int = 1
    tags: str | None = None
    max_minutes: float | None = None


def defects_of(request: Request, options: Settings, project: Project) -> list[Defect]:
    """The defects to check: mutants of the target, or the catalogue's (those named)."""
    if request.mutants:
        if request.defects:
            raise CatalogueError("--defect chooses catalogue defects and --mutants makes defects: use one of them.")
        if request.max_mutants < 1:
            raise CatalogueError(f"--max must be at least 1 (got {request.max_mutants}).")
        found = mutants.generate(project, request.mutants, options.root, request.max_mutants, request.seed,
                                 request.tags)
        if not found:
            raise CatalogueError(f"--mutants {request.mutants}: no operator applies to that source.")
        return found
    if request.tags:
        raise CatalogueError("--tags chooses the scenarios run against mutants; each catalogue defect names its own "
                             "in its 'Tags:' line.")
    defects = catalogue.load(options.path("selfcheck.defects"), options.root)
    return catalogue.select(defects, list(request.defects))


def preflight(defects: list[Defect], options: Settings, project: Project) -> None:
    """Check before anything starts: the features, each defect's services and each defect's tags."""
    root = options.root.resolve()
    for defect in defects:
        variant.touched_services(project, defect, root)
    paths = [str(options.path("features"))]
    if feature_check.check(paths, options, project):
        raise CatalogueError("The features have problems (listed above): the self-check needs a suite that runs.")
    features, _ = feature_check.read(paths, root)
    scenarios = [s for f in features for s in f.walk_scenarios()]
    for defect in defects:
        if not defect.tags:
            continue
        try:
            expression = Configuration(command_args=[f"--tags={defect.tags}"], load_config=False).tag_expression
        except SystemExit:
            raise CatalogueError(f"{defect.source}: 'Tags: {defect.tags}' is not a tag expression behave can read "
                                 f"(e.g. '@returns', '@checkout or @fraud').") from None
        if not any(s.should_run_with_tags(expression) for s in scenarios):
            raise CatalogueError(f"{defect.source}: 'Tags: {defect.tags}' selects none of the {len(scenarios)} "
                                 f"scenarios under {shown(paths[0], root)}, so nothing would be run against it.")


def union(defects: list[Defect]) -> str | None:
    """The tag expression running every scenario any defect runs (None: every scenario)."""
    if any(defect.tags is None for defect in defects):
        return None
    expressions = sorted({defect.tags for defect in defects})
    return " or ".join(f"({tags})" for tags in expressions) if len(expressions) > 1 else expressions[0]


class Progress:
    """Console progress: defect k of n, time elapsed, an estimate of the time left."""

    def __init__(self, total: int):
        self.total = total
        self.started = time.monotonic()
        self.spent: list[float] = []
        self.unbroken = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def next_one(self) -> float:
        """Seconds one more defect takes: the average so far (before the first, an unbroken run's time)."""
        return sum(self.spent) / len(self.spent) if self.spent else self.unbroken

    def left(self, number: int) -> float:
        """Seconds the defects after ``number`` and the last unbroken run will take."""
        return self.next_one() * (self.total - number) + self.unbroken

    def line(self, number: int, text: str) -> str:
        return (f"[{number}/{self.total}] {text} (elapsed {duration(self.elapsed())}, about "
                f"{duration(self.left(number))} left)")


def check(request: Request, options: Settings) -> Matrix:
    """Run the self-check; return the judged matrix (written as JSON and as a report)."""
    signals.install()  # SIGTERM as Ctrl-C: the stack of the run in progress and the variant's images are removed
    project = session.load_project(options)
    defects = defects_of(request, options, project)
    preflight(defects, options, project)
    output = options.path("selfcheck.output")
    runs = output / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    selection = union(defects)
    log.info("Self-check of '%s': %d %s, the unbroken stack first and last (scenarios: %s)", project.name,
             len(defects), "mutant(s)" if request.mutants else "defect(s)", selection or "all")
    timings = Timings()
    client, unbroken_images = session.prepare(project, timings)
    matrix = Matrix(project.name)
    progress = Progress(len(defects))
    first = suite.run(client, project, options, runs / "unbroken-first", tags=selection, timeout=6 * 3600)
    _unbroken(matrix, "first", first)
    progress.unbroken = first.seconds
    timeout = max(MIN_TIMEOUT_S, 3 * first.seconds + 300)
    deadline = progress.started + request.max_minutes * 60 if request.max_minutes else None
    for number, defect in enumerate(defects, 1):
        entry = Entry(defect)
        matrix.entries.append(entry)
        if deadline and time.monotonic() + progress.next_one() + progress.unbroken > deadline:
            log.info("[%d/%d] %s: not run, the time limit of %g minutes would be passed", number, len(defects),
                     defect.id, request.max_minutes)
            continue
        log.info("[%d/%d] %s: %s", number, len(defects), defect.id, defect.description)
        entry.run = _variant_run(client, project, options, defect, entry, unbroken_images, runs / defect.id,
                                 timeout)
        matrix.judge(entry)
        progress.spent.append(entry.seconds)
        log.info(progress.line(number, f"{defect.id}: {entry.verdict}" + (f", {entry.how}" if entry.how else "")))
    last = suite.run(client, project, options, runs / "unbroken-last", tags=selection, timeout=6 * 3600)
    _unbroken(matrix, "last", last)
    for entry in matrix.entries:
        matrix.judge(entry)
    matrix.seconds = progress.elapsed()
    return matrix


def _unbroken(matrix: Matrix, name: str, run: SuiteRun) -> None:
    """Record a run of the unbroken stack; stop when it could not even start."""
    matrix.baseline[name] = run
    if run.error and not run.outcomes:
        raise StartupError(f"The {name} run of the unbroken stack could not be used: {run.error}")
    log.info("Unbroken stack, %s run: %d scenario(s), %d failing, in %s", name, len(run.outcomes),
             len(run.failing()), duration(run.seconds))


def _variant_run(client, project: Project, options: Settings, defect: Defect, entry: Entry,
                 unbroken_images: dict[str, str], workdir: Path, timeout: float) -> SuiteRun:
    """Build the defect's variant, run the suite (the defect's tags) against it, remove its images."""
    started = time.monotonic()
    try:
        built = variant.build(client, project, defect, options.root, unbroken_images)
    except BuildError as exc:
        return SuiteRun(error=f"the stack did not start: its images did not build: {exc}",
                        seconds=time.monotonic() - started)
    entry.services = built.built
    try:
        run = suite.run(client, project, options, workdir, tags=defect.tags, images=built.images, timeout=timeout)
    finally:
        variant.remove(client, built)
    run.seconds = time.monotonic() - started
    return run


def finish(matrix: Matrix, options: Settings) -> Path:
    """Print the matrix, write kill-matrix.json, kill-matrix.md and the report; return the report's path."""
    for line in matrix.lines():
        log.info("%s", line)
    output = options.path("selfcheck.output")
    path = matrix.write(output)
    index = report.write(matrix, output, f"{options['report.name']} self-check")
    log.info("Kill matrix: %s; report: %s", path, index)
    return index
