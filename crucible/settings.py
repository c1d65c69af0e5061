"""One settings file per project, read once: ``crucible.toml`` (or ``[tool.crucible]`` in pyproject.toml).

Every key has a default; the file overrides the defaults, the environment overrides the file
(``CRUCIBLE_`` + the key in capitals with ``_`` for ``.``, e.g. ``CRUCIBLE_BROKER_EXCHANGE``), and
behave's ``-D key=value`` (``-D broker.exchange=shop.events``) overrides everything. Values may
use ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``... from the environment, as Compose files do. A key that does
not exist or a value of the wrong type stops the run naming the file, the key and what to do.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from crucible.errors import SettingsError
from crucible.stack.compose.interpolation import InterpolationError, substitute

FILE_NAME = "crucible.toml"
SETTINGS_ENV = "CRUCIBLE_SETTINGS"
COMPOSE_CANDIDATES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
AUTH_SCHEMES = ("none", "basic", "bearer", "jwt")
# What a [services.NAME] table may set, and of which type.
SERVICE_KEYS = {"port": int, "openapi": str, "image": str, "auth": dict}
# A service's own credentials (``[services.NAME.auth]``): the keys each scheme needs, then those it may take.
SERVICE_AUTH = {"none": ((), ()), "basic": (("username", "password"), ()), "bearer": (("token",), ()),
                "header": (("header", "value"), ())}
# The settings whose values are secrets: set, they must not be empty (an unset ${VAR} is the usual cause).
SECRET_KEYS = ("auth.password", "auth.token", "auth.secret", "broker.password")
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


@dataclass(frozen=True)
class Key:
    """One documented setting: its dotted name, type, default and meaning."""

    name: str
    kind: type | tuple
    default: Any
    doc: str
    aliases: tuple[str, ...] = ()


# Every setting a team can write; README's "Settings" section is this table.
KEYS = [
    Key("project", str, None, "project name (labels, container names); default: the compose file's `name:`, "
        "else $COMPOSE_PROJECT_NAME, else the compose file's folder name, as Compose does"),
    Key("compose", list, None, "compose file(s), merged in order as Compose merges them; default: the first of "
        "compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml next to the settings file"),
    Key("profiles", list, [], "Compose profiles to enable (services without `profiles:` always run)"),
    Key("features", str, "features", "folder of the .feature files"),
    Key("steps_order", list, [], "order of the step modules in the step catalogue (file names); the generic "
        "vocabulary follows"),
    Key("report.results", str, "reports/allure-results", "where behave writes the Allure results (set by the "
        "environment or -D, it also moves the results of the formatter behave.ini switches on)",
        aliases=("allure_results",)),
    Key("report.output", str, "reports/allure-report", "where the single-file report is written"),
    Key("report.history", str, "reports/history/history.jsonl", "history file behind the trend (keep it between "
        "CI runs)", aliases=("history",)),
    Key("report.gate", str, "reports/quality-gate.json", "quality-gate rules for `crucible gate`"),
    Key("report.name", str, "Crucible", "the report's title"),
    Key("report.issue_pattern", str, None, "link for @issue:KEY tags, `{}` is where the key goes",
        aliases=("issue_pattern",)),
    Key("report.tms_pattern", str, None, "link for @tms:KEY tags", aliases=("tms_pattern",)),
    Key("broker.service", str, None, "the RabbitMQ service of the stack; default: the only service whose image "
        "names rabbitmq, or that publishes 5672", aliases=("broker",)),
    Key("broker.exchange", str, None, "default topic exchange of the event steps", aliases=("exchange",)),
    Key("broker.port", int, 5672, "the broker's AMQP container port"),
    Key("broker.user", str, None, "default: the broker service's RABBITMQ_DEFAULT_USER (or RABBITMQ_USER), "
        "else guest"),
    Key("broker.password", str, None, "default: RABBITMQ_DEFAULT_PASS (or RABBITMQ_PASS), else guest"),
    Key("broker.vhost", str, None, "default: RABBITMQ_DEFAULT_VHOST, else /"),
    Key("databases", dict, {}, "per service whose database SQL steps query: `dsn = \"postgresql://...\"` "
        "(host and port are compose names, rewritten to the published ones) or `service = \"db\"` "
        "(credentials from its POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB); default: the service's own "
        "DATABASE_URL, or its POSTGRES_* variables when it is a PostgreSQL service"),
    Key("services", dict, {}, "per service: `port` = the container port HTTP steps use (default: its first "
        "published port in the compose file's order); `openapi` = its OpenAPI 3 document, a path the service "
        "serves (`\"/openapi.json\"`) or a file (`\"docs/orders.yaml\"`, relative to the settings file); a service "
        "without one is not contract-checked; `image` = run this image instead of the compose file's (its `build` is "
        "skipped), e.g. `-D services.orders.image=shop/orders:candidate`; `auth` = the credentials HTTP steps send "
        "to this service instead of `[auth]`'s: `{scheme = \"basic\", username = \"...\", password = \"...\"}`, "
        "`{scheme = \"bearer\", token = \"...\"}`, `{scheme = \"header\", header = \"X-API-Key\", value = "
        "\"...\"}` or `{scheme = \"none\"}`"),
    Key("auth.scheme", str, "none", "how generic HTTP steps authenticate to every service whose `[services.NAME]` "
        "names no `auth` of its own: none, basic (auth.username/auth.password on every request), bearer (auth.token "
        "on every request) or jwt (tokens signed with auth.secret for `I am authenticated as ... with the role ...`)"),
    Key("auth.secret", str, None, "jwt: the signing secret", aliases=("jwt_secret",)),
    Key("auth.secret_from", str, None, "jwt: take the secret from a compose variable, `SERVICE.VARIABLE`"),
    Key("auth.algorithm", str, "HS256", "jwt: signing algorithm (HS256, HS384, HS512)"),
    Key("auth.subject_claim", str, "sub", "jwt: the claim holding the subject"),
    Key("auth.role_claim", str, "role", "jwt: the claim holding the role"),
    Key("auth.roles", list, [], "jwt: the roles tokens may carry (empty: any)"),
    Key("auth.ttl", int, 3600, "jwt: seconds a token is valid"),
    Key("auth.claims", dict, {}, "jwt: extra claims every token carries (e.g. iss, aud)"),
    Key("auth.username", str, None, "basic: user name"),
    Key("auth.password", str, None, "basic: password"),
    Key("auth.token", str, None, "bearer: the token"),
    Key("secrets.variables", list, [], "names of compose variables whose values are secrets although their names "
        "do not say so (`*_PASSWORD`, `*_SECRET`, `*_TOKEN`, `*_KEY` ... always are): hidden wherever Crucible "
        "writes"),
    Key("secrets.values", list, [], "more values to hide wherever Crucible writes, usually from the environment: "
        "`[\"${PAYMENT_SANDBOX_KEY}\"]`"),
    Key("security.roles_field", str, "x-roles", "the OpenAPI extension that lists the roles an operation admits"),
    Key("security.audit_allow", list, [], "places the data-flow audit lets hold a card number or token, as glob "
        "patterns: `column SERVICE.TABLE.COLUMN`, `log of SERVICE`, `event ROUTING.KEY`, `answer of SERVICE to "
        "METHOD /path`"),
    Key("timeouts.http", float, 10.0, "seconds an HTTP request may take"),
    Key("timeouts.max_wait", float, 300.0, "upper bound of any 'within N seconds' step"),
    Key("load.max_seconds", float, 120.0, "upper bound of any load step's duration (seconds)"),
    Key("load.max_requests", int, 200000, "upper bound of the requests one load step sends"),
    Key("load.sample_usage", bool, True, "sample each container's CPU and memory (engine stats) while a load "
        "runs, and attach them to the step"),
    Key("faults.gather_timeout", float, 5.0, "upper bound in seconds that calls held to be let go together wait "
        "for the rest (`the next N calls from ... are held and let go together`); keep it below the calling "
        "service's own timeout for those calls"),
    Key("contracts.check", bool, True, "check every HTTP exchange against the OpenAPI document of the service "
        "that answered (a scenario opts out with the tag @no-contract-check)"),
    Key("contracts.generated_max_time", float, 60.0, "upper bound in seconds of one 'keeps its contract under N "
        "generated requests' step"),
    Key("pact.folder", str, "pacts", "the committed pact files: consumer features must reproduce them, provider "
        "verification replays them"),
    Key("pact.states", str, "pacts/states", "provider states: one `<provider>.feature` per provider whose "
        "scenarios (named as the states) set each state up with any step"),
    Key("pact.update", bool, False, "consumer features do not compare their interactions with the pact files "
        "(`crucible pacts` sets it, then rewrites the files)"),
    Key("run.attach", str, None, "run against a stack `crucible up` left running (`kept` or a run id)",
        aliases=("attach",)),
    Key("run.retry", int, 0, "run a failed scenario this many more times; late passes are marked flaky",
        aliases=("retry",)),
    Key("run.refresh", bool, False, "with run.attach: rebuild and restart the kept stack's stale services "
        "before running (what `crucible up --refresh` does)", aliases=("refresh",)),
    Key("run.workers", int, 1, "behave processes sharing one stack (`crucible run --workers N` wins)",
        aliases=("workers",)),
    Key("run.disruptive_tags", list, ["disruptive", "faults", "resilience", "load"], "tags of scenarios that "
        "stop, restart or break services, or load them: with workers they run last, one at a time, while nothing "
        "else runs"),
    Key("selfcheck.defects", str, "defects", "folder of the defect catalogue `crucible self-check` runs: one "
        "patch file per defect (see \"Self-check\")"),
    Key("selfcheck.output", str, "reports/self-check", "where `crucible self-check` writes its kill matrix "
        "(kill-matrix.json) and its report (report/index.html)"),
]
BY_NAME = {key.name: key for key in KEYS}
ALIASES = {alias: key.name for key in KEYS for alias in key.aliases}
# Environment names kept from earlier versions.
LEGACY_ENV = {"CRUCIBLE_JWT_SECRET": "auth.secret", "CRUCIBLE_HISTORY": "report.history"}


def env_name(key: str) -> str:
    """The environment variable that overrides a key: ``broker.exchange`` -> ``CRUCIBLE_BROKER_EXCHANGE``."""
    return "CRUCIBLE_" + key.upper().replace(".", "_")


@dataclass
class Settings:
    """A project's settings: the values and where the file is."""

    root: Path
    file: Path | None
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def path(self, key: str) -> Path:
        """A path-valued setting, relative to the project's root."""
        return resolve(self.root, self.values[key])

    @property
    def compose_files(self) -> list[Path]:
        """The compose file(s) of the stack, in merge order."""
        if self.values["compose"]:
            return [resolve(self.root, p) for p in self.values["compose"]]
        for name in COMPOSE_CANDIDATES:
            if (self.root / name).is_file():
                return [self.root / name]
        raise SettingsError(f"No compose file: none of {', '.join(COMPOSE_CANDIDATES)} is in {self.root}, and "
                            f"{self.where('compose')} names none. Set `compose = [\"path/to/compose.yaml\"]`.")

    def service(self, name: str) -> dict:
        """The per-service settings of a service ({} when there are none)."""
        return dict(self.values["services"].get(name) or {})

    def database(self, name: str) -> dict:
        """The database settings of a service ({} when there are none)."""
        return dict(self.values["databases"].get(name) or {})

    def where(self, key: str) -> str:
        """Where a key is set, for messages: ``crucible.toml key 'auth.secret'``."""
        return f"{self.file.name if self.file else 'the settings'} key '{key}'"


def resolve(root: Path, value: str | Path) -> Path:
    """A path from the settings: absolute as it is, relative to the project's root otherwise."""
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else (root / path)


def find(start: Path | None = None) -> Path | None:
    """The settings file: $CRUCIBLE_SETTINGS, else crucible.toml or a pyproject.toml with [tool.crucible] here."""
    explicit = os.environ.get(SETTINGS_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"{SETTINGS_ENV}={explicit}: no such file.")
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    if (here / FILE_NAME).is_file():
        return here / FILE_NAME
    pyproject = here / "pyproject.toml"
    if pyproject.is_file() and "tool" in _read_toml(pyproject) and "crucible" in _read_toml(pyproject)["tool"]:
        return pyproject
    return None


def _read_toml(path: Path) -> dict:
    """A TOML file as a dict; a SettingsError naming the line when it is not valid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text; save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None


def _flatten(table: Mapping, prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables as dotted keys; tables that are values of a key (databases, services) stay whole."""
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and key not in BY_NAME:
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def _file_values(path: Path, problems: list[str]) -> dict[str, Any]:
    """The values the settings file sets; each unknown key is a problem (with the closest known key)."""
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("crucible", {})
    flat = _flatten(data)
    for key in list(flat):
        if key not in BY_NAME:
            close = difflib.get_close_matches(key, list(BY_NAME), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            problems.append(f"{path}: unknown setting '{key}'.{hint} Every setting is listed in the README "
                            f"('Settings').")
            del flat[key]
    return flat


def _overrides(userdata: Mapping[str, str] | None, environ: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """Values from the environment and from -D, each with where it came from."""
    found: dict[str, tuple[str, Any]] = {}
    for name, key in LEGACY_ENV.items():
        if environ.get(name):
            found[key] = (f"${name}", environ[name])
    for key in BY_NAME:
        if environ.get(env_name(key)):
            found[key] = (f"${env_name(key)}", environ[env_name(key)])
    for name, value in (userdata or {}).items():
        key = ALIASES.get(name, name)
        if key in BY_NAME:
            found[key] = (f"-D {name}", value)
        elif "." in name and name.split(".")[0] in ("services", "databases"):
            found[name] = (f"-D {name}", value)
    return found


def _interpolate(value: Any, environ: Mapping[str, str], origin: str = "", key: str = "") -> Any:
    """Variables in strings (also inside lists and tables), read by the compose reader's own rules: ``$VAR``,
    ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?message}``, ``${VAR?message}``, ``${VAR:+other}``,
    ``${VAR+other}`` and ``$$`` for a ``$`` (an unset variable reads as empty). A reference that cannot be read, or a
    required variable that is not set, is a SettingsError naming where the value was set and its key. As with
    Compose, a value that comes from the environment or -D (``origin`` ``$NAME`` or ``-D name``) is taken as it is:
    a ``$`` in a password stays."""
    if origin.startswith(("$", "-D ")):
        return value
    if isinstance(value, str):
        try:
            return substitute(value, environ.get, lambda name: None)
        except InterpolationError as exc:
            raise SettingsError(f"{origin}: '{key}': {exc}; {exc.hint}.") from None
    if isinstance(value, list):
        return [_interpolate(v, environ, origin, key) for v in value]
    if isinstance(value, dict):
        return {k: _interpolate(v, environ, origin, f"{key}.{k}") for k, v in value.items()}
    return value


def _coerce(key: Key, value: Any, origin: str) -> Any:
    """A value of the key's type; text from the environment or -D is converted."""
    if value is None:
        return None
    kind = key.kind
    if kind is bool and isinstance(value, str):
        if value.strip().lower() not in BOOLEANS:
            raise SettingsError(f"{origin}: '{key.name}' must be true or false, not {value!r}.")
        return BOOLEANS[value.strip().lower()]
    if kind is list and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if kind in (int, float) and isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            raise SettingsError(f"{origin}: '{key.name}' must be a number, not {value!r}.") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{origin}: '{key.name}' must be {_kind_name(kind)}, not {type(value).__name__} "
                            f"({value!r}). {key.name}: {key.doc}.")
    return value


def _kind_name(kind: type) -> str:
    return {str: "text", int: "a whole number", float: "a number", list: "a list", dict: "a table",
            bool: "true or false"}[kind]


def _service_problems(services: dict, origin: str) -> list[str]:
    """What is wrong with the ``[services.NAME]`` tables: unknown keys, values of the wrong type, unusable auth."""
    problems = []
    for name, table in services.items():
        if not isinstance(table, dict):
            problems.append(f"{origin}: 'services.{name}' must be a table, e.g. [services.{name}] port = 8000.")
            continue
        for key, value in table.items():
            kind = SERVICE_KEYS.get(key)
            if kind is None:
                close = difflib.get_close_matches(key, list(SERVICE_KEYS), n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                problems.append(f"{origin}: unknown setting 'services.{name}.{key}'.{hint} A service takes: "
                                f"{', '.join(SERVICE_KEYS)}.")
            elif not isinstance(value, kind) or isinstance(value, bool):
                problems.append(f"{origin}: 'services.{name}.{key}' must be {_kind_name(kind)}, not {value!r}.")
            elif key == "auth":
                problems += _service_auth_problems(value, f"services.{name}.auth", origin)
    return problems


def _service_auth_problems(auth: dict, where: str, origin: str) -> list[str]:
    """What is wrong with one service's ``auth`` table: its scheme, a key it needs, an empty secret."""
    scheme = auth.get("scheme")
    if scheme not in SERVICE_AUTH:
        return [f"{origin}: '{where}.scheme' is {scheme!r}; use one of {', '.join(SERVICE_AUTH)}, e.g. "
                f"{where} = {{scheme = \"basic\", username = \"...\", password = \"${{PASSWORD}}\"}}."]
    needed, _ = SERVICE_AUTH[scheme]
    problems = []
    for key in auth:
        if key != "scheme" and key not in needed:
            problems.append(f"{origin}: '{where}.{key}' is not used by the scheme '{scheme}', which takes "
                            f"{', '.join(needed) or 'nothing else'}.")
    for key in needed:
        if not isinstance(auth.get(key), str) or not auth[key]:
            what = "is not set" if key not in auth else f"is empty ({auth[key]!r})"
            problems.append(f"{origin}: '{where}.{key}' {what}, and the scheme '{scheme}' needs it (an unset "
                            f"${{VARIABLE}} reads as empty: set it in the environment).")
    return problems


def _secret_problems(raw: dict[str, Any], values: dict[str, Any], origins: dict[str, str]) -> list[str]:
    """A secret setting that is set but empty (usually a ``${VAR}`` whose variable is not set)."""
    problems = []
    for key in SECRET_KEYS:
        if raw[key] is not None and values[key] == "":
            written = f" (it is {raw[key]!r})" if "$" in str(raw[key]) else ""
            problems.append(f"{origins[key]}: '{key}' is empty{written}: set it (an unset ${{VARIABLE}} reads as "
                            f"empty), or remove the key.")
    return problems


def _auth_problems(values: dict[str, Any], origins: dict[str, str]) -> list[str]:
    """The scheme is known, and what it needs is set."""
    scheme = values["auth.scheme"]
    if scheme not in AUTH_SCHEMES:
        return [f"{origins['auth.scheme']}: auth.scheme '{scheme}' is not one of {', '.join(AUTH_SCHEMES)}."]
    needs = {"basic": ("auth.username", "auth.password"), "bearer": ("auth.token",)}.get(scheme, ())
    return [f"{origins['auth.scheme']}: auth.scheme is '{scheme}', which needs '{key}': set it (e.g. "
            f"{key.split('.')[1]} = \"${{{key.replace('.', '_').upper()}}}\" under [auth])."
            for key in needs if values[key] is None]


def _set_nested(values: dict[str, Any], dotted: str, value: Any) -> None:
    """``services.rabbitmq.port=15672`` into values['services']['rabbitmq']['port'] (``...auth.password`` deeper)."""
    top, name, leaf = dotted.split(".", 2) if dotted.count(".") >= 2 else (*dotted.split(".", 1), None)
    table = values[top] = {k: _copied(v) for k, v in values[top].items()}
    if leaf is None:
        raise SettingsError(f"-D {dotted}: name the setting too, e.g. -D {top}.{name}.port=8080")
    *tables, last = leaf.split(".")
    inner = table.setdefault(name, {})
    for part in tables:
        inner = inner.setdefault(part, {}) if isinstance(inner.get(part, {}), dict) else {}
    inner[last] = int(value) if str(value).isdigit() and last == "port" else value


def _copied(value: Any) -> Any:
    """A table and the tables inside it, copied (an override never changes the defaults)."""
    return {k: _copied(v) for k, v in value.items()} if isinstance(value, dict) else value


def load(userdata: Mapping[str, str] | None = None, start: Path | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file (if any), then the environment, then -D values; check every value.

    Every problem (an unknown key, a value of the wrong type, an auth that cannot work, an empty secret) is
    named in one SettingsError, each with where it was set.
    """
    environ = os.environ if environ is None else environ
    file = find(start)
    root = file.parent if file else (start or Path.cwd()).resolve()
    values = {key.name: key.default for key in KEYS}
    origins = {key.name: "default" for key in KEYS}
    problems: list[str] = []
    if file:
        for key, value in _file_values(file, problems).items():
            values[key], origins[key] = value, f"{file}"
    for key, (origin, value) in _overrides(userdata, environ).items():
        if key in BY_NAME:
            values[key], origins[key] = value, origin
        else:
            _set_nested(values, key, value)
    raw = dict(values)
    for key in KEYS:
        try:
            values[key.name] = _coerce(key, _interpolate(values[key.name], environ, origins[key.name], key.name),
                                      origins[key.name])
        except SettingsError as exc:
            problems.append(str(exc))
            values[key.name] = key.default
    problems += _service_problems(values["services"], origins["services"])
    problems += _auth_problems(values, origins) + _secret_problems(raw, values, origins)
    if problems:
        raise SettingsError(problems[0] if len(problems) == 1 else f"{len(problems)} problems in the settings; "
                            f"nothing was started:\n" + "\n".join(f"{n}) {p}" for n, p in enumerate(problems, 1)))
    return Settings(root=root, file=file, values=values)


def overridden(key: str, userdata: Mapping[str, str] | None = None,
               environ: Mapping[str, str] | None = None) -> bool:
    """True if the environment or a -D value sets ``key`` (they win over the settings file and behave.ini)."""
    return key in _overrides(userdata, os.environ if environ is None else environ)


def child_env(options: Settings) -> dict[str, str]:
    """The environment for a behave process of this project: the same settings file."""
    env = dict(os.environ)
    if options.file:
        env[SETTINGS_ENV] = str(options.file)
    return env
