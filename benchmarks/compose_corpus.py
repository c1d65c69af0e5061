"""Benchmark: how many of the compose projects under a folder `crucible check` accepts.

Usage: .venv/bin/python benchmarks/compose_corpus.py DIR [--env-free]

Every folder under DIR that holds a compose file (compose.yaml, compose.yml, docker-compose.yaml,
docker-compose.yml) is one project; its override file (compose.override.yaml ...), when there is one,
is merged over it, as `docker compose` does by default. Each project is checked as `crucible check`
checks it (nothing starts); the output lists the accepted and refused counts and the first line of
each refusal. Use it on a checkout of public projects (e.g. Docker's awesome-compose) kept outside
this repository.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from crucible.errors import ComposeError
from crucible.stack import compose
from crucible.settings import COMPOSE_CANDIDATES

OVERRIDES = ("compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
             "docker-compose.override.yml")


def projects(root: Path) -> list[list[Path]]:
    """Each project's files under ``root``: its compose file, then its override file if it has one."""
    found = []
    for folder in sorted({p.parent for name in COMPOSE_CANDIDATES for p in root.rglob(name)}):
        base = next(folder / name for name in COMPOSE_CANDIDATES if (folder / name).is_file())
        found.append([base] + [folder / name for name in OVERRIDES if (folder / name).is_file()][:1])
    return found


def check(files: list[Path], env: dict[str, str]) -> str | None:
    """None if the project is accepted, else the first line of the refusal."""
    try:
        compose.load(files, env=env)
    except ComposeError as exc:
        text = str(exc)
        lines = text.splitlines()
        return lines[1] if len(lines) > 1 and "problems in the compose file" in lines[0] else lines[0]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--env-free", action="store_true", help="interpolate with no environment variables at all "
                        "(only each project's own .env), as on a fresh CI runner")
    args = parser.parse_args()
    env = {} if args.env_free else dict(os.environ)
    started = time.monotonic()
    found = projects(args.folder.resolve())
    refused = {}
    for files in found:
        why = check(files, env)
        name = str(files[0].relative_to(args.folder.resolve()))
        if why:
            refused[name] = why.replace(str(files[0].parent) + "/", "")
        print(f"{'refused ' if why else 'accepted'}  {name}{' + override' if len(files) > 1 else ''}")
    print(f"\n{len(found) - len(refused)} of {len(found)} projects accepted, {len(refused)} refused "
          f"({time.monotonic() - started:.1f}s)")
    for name, why in refused.items():
        print(f"  {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
