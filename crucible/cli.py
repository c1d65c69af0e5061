"""The ``crucible`` command: set up, check, bring a stack up or down, run features, report, gate, init.

Every command reads the project's settings (``crucible.toml`` in the current folder, or
``[tool.crucible]`` in its pyproject.toml, or the file $CRUCIBLE_SETTINGS names). ``crucible run``
and ``crucible flaky`` pass every option they do not know to behave (``--tags=@checkout``,
``-D key=value``, paths of features).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from behave.configuration import Configuration

from crucible import console, scaffold, secrets, settings
from crucible.errors import CrucibleError, ReportError, SettingsError
from crucible.parallel import coordinator, plan
from crucible.report import flaky, gate, merge, safety, sections
from crucible.report import results as report
from crucible.selfcheck import command as selfcheck
from crucible.settings import Settings
from crucible.stack import compose, engine, images, running, session
from crucible.timings import Timings
from crucible.vocabulary import catalogue, feature_check, settings_check
from crucible.vocabulary.contracts import coverage, deploy, pacts

log = logging.getLogger("crucible.cli")

FORMATTER = "crucible.report.formatter:CrucibleFormatter"
CONSOLE_FORMATTER = "crucible.report.plain:PlainFormatter"
RUN_TIMEOUT_S = 6 * 3600


def defines(behave_args: list[str]) -> dict[str, str]:
    """The ``-D key=value`` / ``--define key=value`` pairs among behave's options (they override settings)."""
    found: dict[str, str] = {}
    args = iter(behave_args)
    for arg in args:
        value = None
        if arg in ("-D", "--define"):
            value = next(args, "")
        elif arg.startswith("--define="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-D") and len(arg) > 2:
            value = arg[2:]
        if value is not None:
            key, _, text = value.partition("=")
            found[key.strip()] = text
    return found


def load_settings(behave_args: list[str] | None = None) -> Settings:
    """The project's settings, with -D values from behave's options on top."""
    return settings.load(userdata=defines(behave_args or []))


def stack_json(options: Settings) -> Path:
    """Where `up` writes the service URLs (next to the results)."""
    return options.path("report.results").parent / "stack.json"


def cmd_setup(args, options: Settings) -> int:
    """Make sure an engine answers, the base image exists and the report tool is installed."""
    timings = Timings()
    with timings.phase("engine"):
        client = engine.ensure()
    with timings.phase("base image"):
        images.ensure_base(client)
    with timings.phase("report tool"):
        report.ensure_allure()
    log.info("Engine %s ready; base image %s present; Allure %s installed. Set-up %s",
             client.version().get("Version"), images.BASE_IMAGE, report.allure_version(),
             timings.summary().removeprefix("Timings: "))
    return 0


def cmd_check(args, options: Settings) -> int:
    """Check the compose file(s) without starting anything (the settings' files unless FILEs are given)."""
    if args.files:
        project = compose.load([Path(f) for f in args.files], name=options["project"], profiles=options["profiles"])
    else:
        project = session.load_project(options)
        settings_check.check(options, project)
    levels = " -> ".join("[" + ", ".join(level) + "]" for level in project.levels())
    log.info("%s: project '%s', start order %s", " + ".join(map(str, project.files)), project.name, levels)
    fixed = [f"{name} {port.written}" for name, service in project.services.items() for port in service.ports
             if port.written]
    if fixed:
        log.info("%d published port%s will be on random loopback ports instead of the file's: %s", len(fixed),
                 "s" if len(fixed) > 1 else "", ", ".join(fixed))
    return 0


def cmd_up(args, options: Settings) -> int:
    """Bring the stack up and leave it running; print and save each service's URL.

    When `up` already left one running, say whether it is current; with --refresh rebuild and restart
    only its stale services (changed definition, build inputs or image).
    """
    timings = Timings()
    project = session.load_project(options)
    settings_check.check(options, project)
    client = engine.ensure()
    kept = session.kept(client, project)
    if kept:
        stack = session.attach(client, project, kept, refresh=args.refresh or options["run.refresh"])
        log.info("Stack '%s' was already up (run %s).", project.name, stack.run_id)
    else:
        client, _ = session.prepare(project, timings)
        stack = session.start(client, project, timings, keep=True)
    path = stack_json(options)
    stack.write_urls(path)
    for name, url in stack.urls().items():
        log.info("  %-12s %s", name, url)
    log.info("Stack '%s' is up (run %s); URLs written to %s. Remove it with `crucible down`.",
             project.name, stack.run_id, path)
    log.info(timings.summary())
    return 0


def cmd_down(args, options: Settings) -> int:
    """Remove the stack `crucible up` left, and leftovers of this project's runs whose process is gone."""
    project = session.load_project(options)
    client = engine.connect()
    removed = running.reap(client, project.name, include_kept=True)
    stack_json(options).unlink(missing_ok=True)
    log.info("Removed %d run(s) of '%s'%s", len(removed), project.name,
             ": " + ", ".join(removed) if removed else " (nothing was running)")
    return 0


def make_report(options: Settings, results: Path) -> dict:
    """Complete the results, keep secrets out, render the single-file report, print where it is; return the counts.

    Secrets found in the results are removed before rendering and the run fails (a ReportError after the
    summary, naming each place and kind).
    """
    history = options.path("report.history")
    loaded = report.load_results(results) if results.is_dir() else []
    known = secrets.use(safety.project_secrets(options))
    leaks = []
    if results.is_dir():
        report.complete_results(results, options.root, history, loaded)
        for title, text in contract_sections(options, results).items():
            if text:
                log.info("%s", text)
        leaks = safety.clean_results(results, known)
        loaded = report.load_results(results) if leaks else loaded
    report.ensure_allure()
    index = report.generate(results, options.path("report.output"), history=history, name=options["report.name"])
    safety.check_page(index, known)
    log.info("History: %d run(s) in %s", report.history_runs(history), history)
    scenarios = [result for result in loaded if not safety.is_finding(result)]
    summary = report.count(scenarios)
    _failing(scenarios)
    log.info("%s", report.one_line(summary))
    _closing_line(summary)
    if leaks:  # the run fails, named as what it is: the report's safety, not one more failed scenario
        raise ReportError("Report safety (not a scenario: not in the count above): " + safety.message(leaks))
    return summary


def _failing(results: list[dict]) -> None:
    """List the scenarios that failed or broke, as behave's own summary did (the run passes --no-summary)."""
    failing = sorted((r.get("fullName") or r.get("name") or "?", r["status"]) for r in results
                     if r.get("status") in ("failed", "broken"))
    if failing:
        log.info("Failing scenarios:\n%s", "\n".join(f"  {name} ({status})" for name, status in failing))


def contract_sections(options: Settings, results: Path) -> dict[str, str]:
    """The run's contract coverage (and, with pacts, the can-i-deploy matrix), attached to the report."""
    found = {"Contract coverage": coverage.render(coverage.collect(results)),
             "Can I deploy": deploy.render(deploy.load(options.path("pact.folder"), results))}
    sections.write(results, found)
    return found


def cmd_report(args, options: Settings) -> int:
    """Generate the single-file Allure report and print where it is and a one-line summary.

    With several --results folders (e.g. the shards of one run), they are merged first, as `merge` does.
    """
    folders = [Path(f) for f in args.results or []]
    if len(folders) > 1:
        folders = [merge.merge(folders, options.path("report.results"))]
    make_report(options, folders[0] if folders else options.path("report.results"))
    return 0


def cmd_merge(args, options: Settings) -> int:
    """Merge several results folders (the shards of one run) into one, then make the report: one history entry.

    The merged results go to the setting report.results; shards are checked: all of one plan, each once.
    """
    summary = make_report(options, merge.merge([Path(f) for f in args.folders], options.path("report.results")))
    return 1 if summary["failed"] or summary["broken"] else 0


def named_paths(behave_args: list[str]) -> list[str]:
    """The feature files or folders among behave's arguments (``features/checkout``, ``a.feature:12``)."""
    return [arg for arg in behave_args if not arg.startswith("-") and Path(arg.split(":")[0]).exists()]


def feature_paths(options: Settings, behave_args: list[str]) -> list[str]:
    """The feature paths a run names, else the settings' features folder."""
    return named_paths(behave_args) or [str(options.path("features"))]


def configured_results(root: Path) -> Path | None:
    """Where the project's own behave configuration (behave.ini, setup.cfg, ...) has Crucible's formatter write
    results, or None when it does not switch the formatter on."""
    previous = Path.cwd()
    os.chdir(root)
    try:
        config = Configuration(command_args=[], load_config=True)
    finally:
        os.chdir(previous)
    if FORMATTER not in (config.format or []):
        return None
    index = config.format.index(FORMATTER)
    outfiles = config.outfiles or []
    return (root / outfiles[index]).resolve() if index < len(outfiles) else None


def behave_command(options: Settings, behave_args: list[str], results: Path) -> list[str]:
    """behave with Crucible's formatter writing the results (unless behave.ini does), plain console output."""
    paths = [] if named_paths(behave_args) else [str(options.path("features"))]
    configured = configured_results(options.root)
    if configured is None:
        formats = ["--format", FORMATTER, "--outfile", str(results), "--format", CONSOLE_FORMATTER]
    elif configured != results.resolve() and not settings.overridden("report.results", defines(behave_args)):
        raise SettingsError(f"behave's configuration in {options.root} writes Allure results to {configured}, but "
                            f"the setting report.results is {results}: make them the same.")
    else:
        formats = []
    # behave's own summary counts differently (errors apart, the report-safety result unknown to it): Crucible
    # prints the run's one count after the report (a --summary among behave_args still wins)
    return [sys.executable, "-m", "behave", *formats, "--no-summary", "--logging-level", "WARNING", *behave_args,
            *paths]


def selection(options: Settings, behave_args: list[str]) -> list[str]:
    """behave's options with the features to run: the paths they name, else the settings' features folder."""
    return [*behave_args, *([] if named_paths(behave_args) else [str(options.path("features"))])]


# behave options that write one file per process or per feature: workers and shards would overwrite them
PER_PROCESS_OUTPUTS = ("-o", "--outfile", "--junit")


def run_options(args, options: Settings, behave_args: list[str]) -> tuple[int, tuple[int, int] | None]:
    """The checked --workers and --shard of `crucible run` (bad values stop here, before anything starts)."""
    count = options["run.workers"] if getattr(args, "workers", None) is None else args.workers
    if count < 1:
        raise SettingsError(f"--workers {count}: give at least 1 (the number of behave processes sharing the stack), "
                            f"e.g. --workers 2")
    shard = getattr(args, "shard", None)
    shard = plan.parse_shard(shard) if shard else None
    clashing = [a for a in behave_args if a.split("=")[0] in PER_PROCESS_OUTPUTS]
    if clashing and (count > 1 or shard):
        raise SettingsError(f"{clashing[0]}: with --workers or --shard, behave runs each scenario as a feature of its "
                            f"own, so this output would be overwritten; leave it out (the Allure results and report "
                            f"cover the run) or run without --workers/--shard.")
    return count, shard


def planned_run(options: Settings, behave_args: list[str], command: list[str], count: int,
                shard: tuple[int, int] | None) -> int | None:
    """Run the selected items with workers and/or as one shard; None when the options select nothing."""
    history = options.path("report.history")
    items = plan.select(options.root, selection(options, behave_args), history, options["run.disruptive_tags"])
    if not plan.scenarios(items):
        return None
    timed = bool(plan.durations(history))
    log.info("Planned %d items from %s", len(items), f"the durations in {history}" if timed else
             "scenario counts (no history yet)")
    extra = {}
    if shard:
        index, total = shard
        part = plan.split(items, total)[index - 1]
        extra = {"shard": f"{index}/{total}", "shard.plan": plan.plan_id(items, total),
                 "shard.scenarios": str(plan.scenarios(part))}
        log.info("Shard %d/%d (plan %s): %d of %d scenarios", index, total, extra["shard.plan"],
                 plan.scenarios(part), plan.scenarios(items))
        if not plan.scenarios(part):
            coordinator.add_environment(options.path("report.results"), extra)
            log.info("Shard %d/%d has nothing to run: the suite has fewer items than shards.", index, total)
            return 0
        items = part
    return coordinator.run(options, command, plan.ordered(items, count), count, extra, timed)


def cmd_run(args, options: Settings, behave_args: list[str]) -> int:
    """Check the features, run them against the stack, write the report; exit 1 if a scenario failed or none ran."""
    count, shard = run_options(args, options, behave_args)
    project = session.load_project(options)  # a compose file that cannot be used stops here too
    settings_check.check(options, project)  # and settings the stack cannot honour
    states = options.path("pact.states")
    checked = feature_paths(options, behave_args) + ([str(states)] if states.is_dir() else [])
    if feature_check.check(checked, options, project, behave_args):
        return 1
    engine.ensure()
    results = options.path("report.results")
    shutil.rmtree(results, ignore_errors=True)
    command = behave_command(options, behave_args, results)
    try:
        if count == 1 and shard is None:
            log.info("Running: behave %s", " ".join(command[3:]))
            status = subprocess.run(command, cwd=options.root, stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT_S,
                                    env=settings.child_env(options)).returncode
        else:
            status = planned_run(options, behave_args, command, count, shard)
            if status is None:
                return _nothing_ran(options, behave_args)
    except KeyboardInterrupt:
        log.error("Interrupted")
        return 130
    if shard:
        return _shard_summary(results, shard, status)
    try:
        summary = make_report(options, results)
    except CrucibleError as exc:
        log.error("%s", exc)
        return status or 1
    ran = summary["total"] - summary["skipped"]
    if status == 0 and not selective(behave_args) and not options["pact.update"]:
        stale = pacts.check_folder(options)
        for problem in stale:
            log.error("Stale pact: %s", problem)
        if stale:
            log.error("The committed pacts are not what the consumer features write: run `crucible pacts` "
                      "(make pacts) and commit %s.", options.path("pact.folder"))
            return 1
    if status == 0 and ran == 0:
        return _nothing_ran(options, behave_args)
    return status


def _nothing_ran(options: Settings, behave_args: list[str]) -> int:
    """Say that the run tested nothing; exit code 1."""
    log.error("No scenario ran: the features under %s hold no scenario that the options select "
              "(a --tags expression that matches nothing, a Scenario Outline without Examples, or a "
              "keyword typo that turns scenarios into description text). Nothing was tested.",
              ", ".join(feature_paths(options, behave_args)))
    return 1


def _shard_summary(results: Path, shard: tuple[int, int], status: int) -> int:
    """A shard makes no report of its own (the merge does): print its counts and where its results are."""
    summary = report.summarise(results) if results.is_dir() else report.count([])
    log.info("Shard %d/%d: %s. Results in %s; make the report from every shard's results with "
             "`crucible merge DIR ...`.", *shard, report.one_line(summary), results)
    _closing_line(summary)
    return status


def _closing_line(summary: dict[str, int]) -> None:
    """The closing line CI tools read, on stdout: broken scenarios count as failed."""
    sys.stdout.write(f"scenarios: {summary['passed']} passed, {summary['failed'] + summary['broken']} failed, "
                     f"{summary['skipped']} skipped\n")
    sys.stdout.flush()


def cmd_pacts(args, options: Settings, behave_args: list[str]) -> int:
    """Run the @pact features and write the pact files the consumer scenarios describe into the pact folder."""
    options = settings.load(userdata={**defines(behave_args), "pact.update": "true"})
    status = cmd_run(args, options, ["--tags=@pact", "-D", "pact.update=true", *behave_args])
    if status != 0:
        log.error("The pact files were not written: the run above failed. Fix it and run `crucible pacts` again.")
        return status
    written = pacts.update_folder(options)
    for path in written:
        log.info("  wrote %s", path)
    log.info("%d pact file(s) written to %s: commit them.", len(written), options.path("pact.folder"))
    return 0


def selective(behave_args: list[str]) -> bool:
    """True when a run selects part of the features (tags, names, paths): it cannot judge what it did not run."""
    return bool(named_paths(behave_args)) or any(arg.startswith(("-t", "--tags", "-n", "--name", "-i", "--include",
                                                                 "-e", "--exclude")) for arg in behave_args)


def cmd_flaky(args, options: Settings, behave_args: list[str]) -> int:
    """Run the suite (or part of it) N times against one stack; list scenarios whose outcome changed."""
    return flaky.rerun(args.runs, behave_args, options)


def cmd_self_check(args, options: Settings) -> int:
    """Run the suite against each defect of the catalogue (or automatic mutants); print the kill matrix.

    The unbroken stack runs first and last (a failure there is a false alarm). Exit 1 when a defect
    survived (unless accepted) or a false alarm was raised; the matrix is written as kill-matrix.json and
    as a report in the setting selfcheck.output.
    """
    request = selfcheck.Request(defects=tuple(args.defect or ()), mutants=args.mutants, max_mutants=args.max,
                                seed=args.seed, tags=args.tags, max_minutes=args.max_minutes)
    matrix = selfcheck.check(request, options)
    selfcheck.finish(matrix, options)
    return 0 if matrix.passed() else 1


def cmd_gate(args, options: Settings) -> int:
    """Check the results against the quality gate's rules; exit 1 when a rule is broken."""
    results = Path(args.results) if args.results else options.path("report.results")
    verdict, text = gate.check(results, Path(args.config) if args.config else options.path("report.gate"))
    (log.info if verdict.passed_gate else log.error)("%s", text)
    return 0 if verdict.passed_gate else 1


def cmd_docs(args, options: Settings) -> int:
    """Write docs/steps.md, the catalogue of every step the project can use (--check: fail if stale)."""
    return catalogue.write_docs(options, check=args.check)


def cmd_init(args, options: Settings) -> int:
    """Write a starter project into an empty folder: settings, a first feature, environment.py, steps glue."""
    written = scaffold.init(Path(args.directory), compose_file=args.compose)
    for path in written:
        log.info("  wrote %s", path)
    prog = program(same_folder=Path(args.directory).resolve() == Path.cwd().resolve())
    where = "" if Path(args.directory).resolve() == Path.cwd().resolve() else f"in {Path(args.directory).resolve()}: "
    log.info("Next, %s`%s check` (is the compose file usable?), `%s run` (the smoke feature); then write your "
             "features with the steps `%s docs` lists in docs/steps.md, and settings in crucible.toml.",
             where, prog, prog, prog)
    return 0


def program(same_folder: bool) -> str:
    """How the user called this command, for messages that tell them what to type next."""
    called = sys.argv[0]
    if called.endswith("__main__.py"):
        return f"{sys.executable} -m crucible"
    if "/" not in called or Path(called).is_absolute():
        return Path(called).name if shutil.which(Path(called).name) == called else called
    return called if same_folder else str(Path(called).resolve())


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(prog="crucible", description="Crucible: behaviour-driven integration suites "
                                  "against real stacks (settings: crucible.toml).")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func, **kwargs) -> argparse.ArgumentParser:
        found = sub.add_parser(name, help=func.__doc__.splitlines()[0], description=func.__doc__, **kwargs)
        found.set_defaults(func=func)
        return found

    command("setup", cmd_setup)
    check = command("check", cmd_check)
    check.add_argument("files", nargs="*", metavar="FILE", help="compose file(s) to check, merged in order")
    up = command("up", cmd_up)
    up.add_argument("--refresh", action="store_true", help="rebuild and restart the stale services of the stack "
                    "`up` left running (their compose definition, build inputs or image changed)")
    command("down", cmd_down)
    run = command("run", cmd_run, epilog="Any other option goes to behave, e.g. crucible run --tags=@checkout.")
    run.add_argument("--workers", type=int, metavar="N", help="behave processes sharing one stack (default: the "
                     "setting run.workers, 1); scenarios are handed out longest first, disruptive ones last")
    run.add_argument("--shard", metavar="K/N", help="run only the K-th of N parts of the suite, balanced by the "
                     "history's durations (one CI job per part; `crucible merge` makes the report)")
    command("pacts", cmd_pacts, epilog="Any other option goes to behave.")
    flk = command("flaky", cmd_flaky, epilog="Any other option goes to behave.")
    flk.add_argument("--runs", type=int, default=5, help="how many runs to compare (default 5)")
    rep = command("report", cmd_report)
    rep.add_argument("--results", action="append", help="results folder (default: the setting report.results); "
                     "give it more than once to merge several")
    mrg = command("merge", cmd_merge)
    mrg.add_argument("folders", nargs="+", metavar="DIR", help="results folders to merge, e.g. one per shard")
    gat = command("gate", cmd_gate)
    gat.add_argument("--results", help="results folder (default: the setting report.results)")
    gat.add_argument("--config", help="rules file (default: the setting report.gate)")
    doc = command("docs", cmd_docs)
    doc.add_argument("--check", action="store_true", help="fail if docs/steps.md is not current")
    chk = command("self-check", cmd_self_check)
    chk.add_argument("--defect", action="append", metavar="ID", help="check only this defect of the catalogue "
                     "(its file name without .patch); repeat for more")
    chk.add_argument("--mutants", metavar="TARGET", help="instead of the catalogue, make mutants of a service's source "
                     "(a service name, or a file or folder)")
    chk.add_argument("--max", type=int, default=10, help="at most this many mutants (default 10)")
    chk.add_argument("--seed", type=int, default=1, help="the seed that samples the mutants (default 1)")
    chk.add_argument("--tags", help="the scenarios run against each mutant (a behave tag expression; default: all)")
    chk.add_argument("--max-minutes", type=float, help="start no defect that would end after this many minutes")
    ini = command("init", cmd_init)
    ini.add_argument("directory", nargs="?", default=".", help="the folder to write into (default: here)")
    ini.add_argument("--compose", help="the team's compose file, relative to the folder (default: the one found "
                                       "there)")
    return top


PASS_THROUGH = {"run", "flaky", "pacts"}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; harness errors print one clear message."""
    argv = sys.argv[1:] if argv is None else argv
    args, extra = parser().parse_known_args(argv)
    if extra and args.command not in PASS_THROUGH:
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    extra = extra[1:] if extra[:1] == ["--"] else extra
    console.setup()
    try:
        options = load_settings(extra)
        if args.command in PASS_THROUGH:
            return args.func(args, options, extra)
        return args.func(args, options)
    except CrucibleError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("Interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
