"""Command line: ``python -m crucible setup|check|up|down|report|gate``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from crucible import compose, console, engine, flaky, gate, images, report, session, stack
from crucible.errors import CrucibleError
from crucible.timings import Timings

log = logging.getLogger("crucible.cli")

STACK_JSON = session.ROOT / "reports" / "stack.json"


def cmd_setup(args) -> int:
    """Make sure an engine answers and the base image exists."""
    timings = Timings()
    with timings.phase("engine"):
        client = engine.ensure()
    with timings.phase("base image"):
        images.ensure_base(client)
    log.info("Engine %s ready; base image %s present. Set-up %s", client.version().get("Version"),
             images.BASE_IMAGE, timings.summary().removeprefix("Timings: "))
    return 0


def cmd_check(args) -> int:
    """Check the compose file without starting anything."""
    project = compose.load(session.compose_path(args.compose))
    levels = " -> ".join("[" + ", ".join(level) + "]" for level in project.levels())
    log.info("%s: project '%s', start order %s", project.path, project.name, levels)
    return 0


def cmd_up(args) -> int:
    """Bring the stack up and leave it running; print and save each service's URL."""
    timings = Timings()
    client, project, _ = session.prepare(session.compose_path(args.compose), timings)
    running = session.start(client, project, timings, keep=True)
    running.write_urls(STACK_JSON)
    for name, url in running.urls().items():
        log.info("  %-12s %s", name, url)
    log.info("Stack '%s' is up (run %s); URLs written to %s. Remove it with `make down`.",
             project.name, running.run_id, STACK_JSON)
    log.info(timings.summary())
    return 0


def cmd_down(args) -> int:
    """Remove every stack of the project left by `up` or by runs that are gone."""
    project = compose.load(session.compose_path(args.compose))
    client = engine.connect()
    removed = stack.reap(client, project.name, include_kept=True)
    STACK_JSON.unlink(missing_ok=True)
    log.info("Removed %d run(s) of '%s'%s", len(removed), project.name,
             ": " + ", ".join(removed) if removed else " (nothing was running)")
    return 0


def cmd_report(args) -> int:
    """Generate the single-file Allure report and print where it is and a one-line summary."""
    results = Path(args.results)
    history = report.history_file(args.history, session.ROOT)
    loaded = report.load_results(results) if results.is_dir() else []
    if results.is_dir():
        report.complete_results(results, session.ROOT, history, loaded)
    report.generate(results, Path(args.config), session.ROOT, history=history)
    log.info("History: %d run(s) in %s", report.history_runs(history), history)
    summary = report.count(loaded)
    log.info(report.one_line(summary))
    # The closing line CI tools read: broken scenarios count as failed.
    sys.stdout.write(f"scenarios: {summary['passed']} passed, {summary['failed'] + summary['broken']} failed, "
                     f"{summary['skipped']} skipped\n")
    return 0


def cmd_flaky(args) -> int:
    """Run the suite (or part of it) N times against one stack; list scenarios whose outcome changed."""
    extra = args.behave_args[1:] if args.behave_args[:1] == ["--"] else args.behave_args
    return flaky.rerun(args.runs, extra, args.compose)


def cmd_gate(args) -> int:
    """Check the results against the quality gate's rules; exit 1 when a rule is broken."""
    verdict, text = gate.check(Path(args.results), Path(args.config))
    (log.info if verdict.passed_gate else log.error)("%s", text)
    return 0 if verdict.passed_gate else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; harness errors print one clear message."""
    parser = argparse.ArgumentParser(prog="python -m crucible", description=__doc__)
    parser.add_argument("--compose", help="compose file (default: $CRUCIBLE_COMPOSE or docker/compose.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help=cmd_setup.__doc__).set_defaults(func=cmd_setup)
    sub.add_parser("check", help=cmd_check.__doc__).set_defaults(func=cmd_check)
    sub.add_parser("up", help=cmd_up.__doc__).set_defaults(func=cmd_up)
    sub.add_parser("down", help=cmd_down.__doc__).set_defaults(func=cmd_down)
    fl = sub.add_parser("flaky", help=cmd_flaky.__doc__)
    fl.add_argument("--runs", type=int, default=5, help="how many runs to compare (default 5)")
    fl.add_argument("behave_args", nargs=argparse.REMAINDER, help="behave options after --, e.g. -- --tags=@checkout")
    fl.set_defaults(func=cmd_flaky)
    rep = sub.add_parser("report", help=cmd_report.__doc__)
    rep.add_argument("--results", default="reports/allure-results")
    rep.add_argument("--config", default="reports/allurerc.mjs")
    rep.add_argument("--history", help="history file that feeds the trend (default: $CRUCIBLE_HISTORY or "
                                       "reports/history/history.jsonl)")
    rep.set_defaults(func=cmd_report)
    gat = sub.add_parser("gate", help=cmd_gate.__doc__)
    gat.add_argument("--results", default="reports/allure-results")
    gat.add_argument("--config", default="reports/quality-gate.json")
    gat.set_defaults(func=cmd_gate)
    args = parser.parse_args(argv)
    console.setup()
    try:
        return args.func(args)
    except CrucibleError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("Interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
