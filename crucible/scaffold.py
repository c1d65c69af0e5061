"""``crucible init``: a starter project next to a team's compose file, with nothing of Crucible's to copy.

It writes the settings file, a one-line ``environment.py``, a one-line ``steps/crucible_steps.py``
(the generic vocabulary) and a first feature that calls the first service publishing a port that
is not a database's or a broker's; the settings' commented examples use the stack's own names. It
never overwrites a file: a folder that already has any of them is refused, naming them.
"""

from __future__ import annotations

from pathlib import Path

from crucible.errors import SettingsError
from crucible.settings import COMPOSE_CANDIDATES, FILE_NAME
from crucible.stack import compose, schemes
from crucible.vocabulary.messaging import broker_candidates

SETTINGS = '''\
# Crucible settings: every key is described in Crucible's README ("Settings").
# Environment variables (CRUCIBLE_<KEY>) and behave's -D key=value override what is here.
compose = ["{compose}"]
features = "features"

[report]
results = "reports/allure-results"
output = "reports/allure-report"
history = "reports/history/history.jsonl"

# [broker]                       # the event steps' RabbitMQ ({broker_found})
# service = "{broker}"
# exchange = "events"            # the topic exchange the event steps use (e.g. "amq.topic")
#
# [databases.{app}]{app_pad}# the SQL steps' database of a service
# service = "{database}"{database_pad}# credentials from its POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB
#
# [auth]                         # none (default), basic, bearer or jwt
# scheme = "jwt"
# secret = "${{JWT_SECRET}}"
# roles = ["user", "admin"]
#
# [services.{multi}]{multi_pad}# the port HTTP steps use when a service publishes several
# port = {multi_port}
#
# [services.{app}]{app_service_pad}# check every exchange with "{app}" against its OpenAPI document:
# openapi = "/openapi.json"      # a path it serves, or a file such as "docs/api.yaml" (the security steps
#                                # read each operation's roles from its x-roles)
#
# [security]                     # places the data-flow audit lets hold a token or card number
# audit_allow = ["answer of {app} to POST /login"]
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


def _padded(text: str, width: int) -> str:
    """Spaces that line a trailing comment up at ``width`` after ``text``."""
    return " " * max(1, width - len(text))


def _hints(project) -> dict[str, str]:
    """The stack's own names for the settings file's commented examples."""
    services = project.services
    brokers = broker_candidates(services)
    databases = [name for name, svc in services.items()
                 if "postgres" in svc.image.lower() or "POSTGRES_PASSWORD" in svc.environment]
    multi = next(((name, svc.ports[1].container) for name, svc in services.items() if len(svc.ports) > 1),
                 ("rabbitmq", 15672))
    app = next((name for name in services if name not in brokers + databases), "app")
    return {
        "broker": brokers[0] if len(brokers) == 1 else "rabbitmq",
        "broker_found": "found by its image when not set" + (f": here '{brokers[0]}'" if len(brokers) == 1 else ""),
        "app": app, "app_pad": _padded(f"# [databases.{app}]", 33),
        "app_service_pad": _padded(f"# [services.{app}]", 33),
        "database": databases[0] if databases else "db",
        "database_pad": _padded(f'# service = "{databases[0] if databases else "db"}"', 33),
        "multi": multi[0], "multi_pad": _padded(f"# [services.{multi[0]}]", 33), "multi_port": str(multi[1]),
    }


def _http_service(project) -> str | None:
    """The first service whose HTTP steps' port (its first published one) speaks HTTP, else the first whose port
    is no database's or broker's (nothing names what it speaks)."""
    found = {}
    for name, service in project.services.items():
        tcp = [port.container for port in service.ports if port.protocol == "tcp"]
        if tcp:
            found.setdefault(schemes.scheme(service, tcp[0]), name)
    return found.get("http") or found.get("https") or found.get(schemes.FALLBACK)


def init(folder: Path, compose_file: str | None = None) -> list[Path]:
    """Write the starter files into ``folder``; return them. Refuses to overwrite anything."""
    folder = folder.resolve()
    found = _compose_file(folder, compose_file)
    project = compose.load(found)
    relative = found.relative_to(folder).as_posix() if found.is_relative_to(folder) else str(found)
    http = _http_service(project)
    feature = FEATURE.format(compose=relative, http=HTTP_SCENARIO.format(service=http) if http else "")
    files = {
        folder / FILE_NAME: SETTINGS.format(compose=relative, **_hints(project)),
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
