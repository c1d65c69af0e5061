"""``crucible init``: a starter project next to a team's compose file, with nothing of Crucible's to copy.

It writes the settings file, a one-line ``environment.py``, a one-line ``steps/crucible_steps.py``
(the generic vocabulary) and a first feature that calls the first service publishing a port. It
never overwrites a file: a folder that already has any of them is refused, naming them.
"""

from __future__ import annotations

from pathlib import Path

from crucible.errors import SettingsError
from crucible.settings import COMPOSE_CANDIDATES, FILE_NAME
from crucible.stack import compose

SETTINGS = '''\
# Crucible settings: every key is described in Crucible's README ("Settings").
# Environment variables (CRUCIBLE_<KEY>) and behave's -D key=value override what is here.
compose = ["{compose}"]
features = "features"

[report]
results = "reports/allure-results"
output = "reports/allure-report"
history = "reports/history/history.jsonl"

# [broker]                       # the event steps' RabbitMQ (found by its image when not set)
# service = "rabbitmq"
# exchange = "events"
#
# [databases.app]                # the SQL steps' database of a service
# service = "db"                 # credentials from db's POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB
#
# [auth]                         # none (default), basic, bearer or jwt
# scheme = "jwt"
# secret = "${{JWT_SECRET}}"
# roles = ["user", "admin"]
#
# [services.rabbitmq]            # the port HTTP steps use when a service publishes several
# port = 15672
'''
ENVIRONMENT = "from crucible.hooks import *  # noqa: F401,F403  Crucible brings the stack up and down\n"
STEPS = "from crucible.vocabulary.steps import *  # noqa: F401,F403  Crucible's generic steps (docs/steps.md)\n"
FEATURE = '''\
# A first feature against {compose}. Every step is listed in docs/steps.md (`crucible docs` writes it).
Feature: The stack answers

  Scenario: Every service of the stack is up
    Then every service of the stack is running
{http}'''
HTTP_SCENARIO = '''
  Scenario: The "{service}" service answers HTTP
    When I send a GET request to "{service}" at "/"
    Then the response status is 200
'''


def _compose_file(folder: Path, explicit: str | None) -> Path:
    """The team's compose file: the one named, else the first of Compose's default names in the folder."""
    if explicit:
        path = folder / explicit
        if not path.is_file():
            raise SettingsError(f"{path}: no such compose file.")
        return path
    for name in COMPOSE_CANDIDATES:
        if (folder / name).is_file():
            return folder / name
    raise SettingsError(f"No compose file in {folder} ({', '.join(COMPOSE_CANDIDATES)}): put yours there, or "
                        f"name it with `crucible init --compose path/to/compose.yaml`.")


def init(folder: Path, compose_file: str | None = None) -> list[Path]:
    """Write the starter files into ``folder``; return them. Refuses to overwrite anything."""
    folder = folder.resolve()
    found = _compose_file(folder, compose_file)
    project = compose.load(found)
    relative = found.relative_to(folder).as_posix() if found.is_relative_to(folder) else str(found)
    http = [name for name, service in project.services.items() if service.ports]
    feature = FEATURE.format(compose=relative, http=HTTP_SCENARIO.format(service=http[0]) if http else "")
    files = {
        folder / FILE_NAME: SETTINGS.format(compose=relative),
        folder / "environment.py": ENVIRONMENT,
        folder / "steps" / "crucible_steps.py": STEPS,
        folder / "features" / "smoke.feature": feature,
    }
    taken = [str(path) for path in files if path.exists()]
    if taken:
        raise SettingsError(f"Not overwriting what is there: {', '.join(taken)}. `crucible init` writes a starter "
                            f"project into a folder that has none of these files.")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
