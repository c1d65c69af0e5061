"""The settings checked against the compose file before anything starts: every problem at once, in words.

``crucible run`` (and the stack fixture, for a plain ``behave``) calls :func:`check` after the settings
and the compose file are read and before an image is built: a ``[services.NAME]`` table for a service the
file does not have, an OpenAPI file that is not there, a port the service does not publish, a
``[databases.NAME]`` the SQL steps could not use (an unsupported ``mysql://`` DSN, a service with no
PostgreSQL variables, a host that is no service), a broker or a JWT secret the settings name but the
stack lacks. Each problem names the settings file and the key, and says what to do.

A database or broker the settings do not name is only checked when a feature uses its steps (see the
``@checked`` checks of the SQL and event steps in :mod:`crucible.vocabulary.preflight`).
"""

from __future__ import annotations

import difflib

from crucible.errors import CrucibleError, SettingsError
from crucible.settings import Settings
from crucible.stack.compose import Project
from crucible.vocabulary import database, messaging, preflight


def _services(project: Project) -> str:
    return ", ".join(sorted(project.services))


def _unknown(project: Project, name: str) -> str:
    """Words for a service name the compose file does not have, with the closest one."""
    close = difflib.get_close_matches(name, list(project.services), n=1, cutoff=0.5)
    return (f"'{name}' is not a service of {project.path} (services: {_services(project)})"
            + (f"; did you mean '{close[0]}'?" if close else ""))


def service_problems(settings: Settings, project: Project) -> list[str]:
    """The ``[services.NAME]`` tables: the service exists, publishes its port, has its OpenAPI file."""
    problems = []
    for name, table in sorted((settings["services"] or {}).items()):
        if name not in project.services:
            problems.append(f"{settings.where(f'services.{name}')}: {_unknown(project, name)}.")
            continue
        port = (table or {}).get("port")
        published = sorted({p.container for p in project.services[name].ports})
        if port is not None and port not in published:
            problems.append(f"{settings.where(f'services.{name}.port')} is {port}, which service '{name}' does not "
                            f"publish in {project.path} (it publishes: {', '.join(map(str, published)) or 'none'}): "
                            f"publish it (ports: [\"{port}\"]) or name one it publishes.")
        openapi = (table or {}).get("openapi")
        if openapi and not openapi.startswith(("/", "http://", "https://")):
            path = settings.root / openapi
            if not path.is_file():
                problems.append(f"{settings.where(f'services.{name}.openapi')} names {path}, which is not a file: "
                                f"give the document's path relative to {settings.root}, or the path the service "
                                f"serves it at (\"/openapi.json\").")
    return problems


def database_problems(settings: Settings, project: Project) -> list[str]:
    """Each ``[databases.NAME]``: a service, and a PostgreSQL database the SQL steps can reach."""
    problems = []
    for name in sorted(settings["databases"] or {}):
        if name not in project.services:
            problems.append(f"{settings.where(f'databases.{name}')}: {_unknown(project, name)}.")
            continue
        try:
            database.database_source(project, settings, name)
        except CrucibleError as exc:
            problems.append(str(exc))
    return problems


def broker_problems(settings: Settings, project: Project) -> list[str]:
    """``broker.service``, when set, is a service of the stack."""
    if settings["broker.service"] and settings["broker.service"] not in project.services:
        return [f"{settings.where('broker.service')}: {_unknown(project, settings['broker.service'])}."]
    return []


def auth_problems(settings: Settings, project: Project) -> list[str]:
    """``auth.secret_from`` names ``SERVICE.VARIABLE`` of the compose file."""
    source = settings["auth.secret_from"]
    if not source or settings["auth.secret"]:
        return []
    service, dot, variable = source.partition(".")
    where = f"{settings.where('auth.secret_from')} = '{source}'"
    if not dot or not variable:
        return [f"{where}: write it as SERVICE.VARIABLE, e.g. \"orders.JWT_SECRET\"."]
    if service not in project.services:
        return [f"{where}: {_unknown(project, service)}."]
    if not project.services[service].environment.get(variable):
        return [f"{where}: service '{service}' has no {variable} (or an empty one) in its environment in "
                f"{project.path}."]
    return []


def problems(settings: Settings, project: Project) -> list[str]:
    """Every problem of the settings against the compose file."""
    return (service_problems(settings, project) + database_problems(settings, project)
            + broker_problems(settings, project) + auth_problems(settings, project))


def check(settings: Settings, project: Project) -> None:
    """Raise one SettingsError naming every problem (nothing has started yet); nothing when there is none."""
    found = problems(settings, project)
    if len(found) == 1:
        raise SettingsError(f"{found[0]} Nothing was started.")
    if found:
        raise SettingsError(f"{len(found)} problems in the settings; nothing was started:\n"
                            + "\n".join(f"{i}) {problem}" for i, problem in enumerate(found, 1)))


def uses_database(scope, **arguments) -> None:
    """The check of a SQL step: ``service`` is a service, and its database is one the step can query."""
    service = arguments["service"]
    if scope.project is None or "{" in service:
        return
    preflight.service(scope, service)
    database.database_source(scope.project, scope.settings, service)


def uses_broker(scope, **_arguments) -> None:
    """The check of an event step: the stack has one broker the steps can find (or the settings name it)."""
    if scope.project is not None:
        messaging.broker_service_of(scope.project, scope.settings)
