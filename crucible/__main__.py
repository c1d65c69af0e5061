"""Command line: ``python -m crucible setup|check|up|down|report``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from crucible import compose, console, engine, images, report, session, stack
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
    report.generate(results, Path(args.config), session.ROOT)
    summary = report.summarise(results)
    log.info(report.one_line(summary))
    # The closing line CI tools read: broken scenarios count as failed.
    sys.stdout.write(f"scenarios: {summary['passed']} passed, {summary['failed'] + summary['broken']} failed, "
                     f"{summary['skipped']} skipped\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; harness errors print one clear message."""
    parser = argparse.ArgumentParser(prog="python -m crucible", description=__doc__)
    parser.add_argument("--compose", help="compose file (default: $CRUCIBLE_COMPOSE or docker/compose.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help=cmd_setup.__doc__).set_defaults(func=cmd_setup)
    sub.add_parser("check", help=cmd_check.__doc__).set_defaults(func=cmd_check)
    sub.add_parser("up", help=cmd_up.__doc__).set_defaults(func=cmd_up)
    sub.add_parser("down", help=cmd_down.__doc__).set_defaults(func=cmd_down)
    rep = sub.add_parser("report", help=cmd_report.__doc__)
    rep.add_argument("--results", default="reports/allure-results")
    rep.add_argument("--config", default="reports/allurerc.mjs")
    rep.set_defaults(func=cmd_report)
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
