"""Fingerprints of what each service was started from, so a kept stack can tell which services are stale.

Every container carries two labels: ``crucible.config``, a hash of the service's definition as the
compose model reads it (after interpolation, merging and profiles, so environment variables and
settings that shape the stack count too), and ``crucible.build``, a hash of its build inputs: the
Dockerfile and the files its COPY and ADD lines take from the build context (minus .dockerignore).
A service is stale when either differs now, when its image tag points to another image than the one
its container runs, when its container is not running (a one-shot job: when it did not exit with code 0),
or when it was added to or removed from the compose file.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import logging
import os
import io
import re
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import ImageNotFound
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

from crucible.stack.compose import Project, Service

log = logging.getLogger(__name__)

LABEL_CONFIG = "crucible.config"
LABEL_BUILD = "crucible.build"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MODIFIED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])(.*))?", re.S)
_HEREDOC = re.compile(r"\d*<<(-?)([\"']?)([A-Za-z0-9_.-]+)\2")
_HEREDOC_INSTRUCTIONS = ("RUN", "COPY", "ADD")
_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.I)


@dataclass(frozen=True)
class Stale:
    """A service of a kept stack that no longer matches what would be started now, and why."""

    service: str
    reason: str
    gone: bool = False

    def __str__(self) -> str:
        return f"{self.service}: {self.reason}"


def _plain(value):
    """A value as JSON-friendly data (dataclasses as dicts, paths and the rest as text)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def config_hash(service: Service) -> str:
    """A hash of the service's definition."""
    text = json.dumps(_plain(service), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parsed(text: str) -> list[dict]:
    """The Dockerfile's instructions as dockerfile-parse reads them (the ``# escape=`` directive, continuation
    lines, comments), with heredoc bodies left out: the lines after ``RUN <<EOF`` or ``COPY <<EOF /dst`` up to
    ``EOF`` are a file's or a script's text, not instructions."""
    lines = text.splitlines(keepends=True)
    done = -1  # the last line whose heredocs were taken out
    while True:
        parser = DockerfileParser(fileobj=io.BytesIO("".join(lines).encode()))
        found = [i for i in parser.structure if i["instruction"] in _HEREDOC_INSTRUCTIONS and i["endline"] > done
                 and _heredocs(i["value"])]
        if not found:
            return [i for i in parser.structure if i["instruction"] != "COMMENT"]
        first = found[0]
        line = first["endline"] + 1
        for strip_tabs, word in _heredocs(first["value"]):
            while line < len(lines):
                body = lines[line].rstrip("\r\n")
                lines[line] = "\n"
                line += 1
                if (body.lstrip("\t") if strip_tabs else body) == word:
                    break
        done = first["endline"]


def _heredocs(value: str) -> list[tuple[bool, str]]:
    """The heredocs an instruction opens: (whether ``<<-`` strips leading tabs, the closing word), in order."""
    return [(match.group(1) == "-", match.group(3)) for match in map(_HEREDOC.fullmatch, value.split()) if match]


def _escape_character(text: str) -> str:
    """The escape character the Dockerfile's ``# escape=`` directive sets (a backslash without one)."""
    for line in text.splitlines():
        directive = _DIRECTIVE.match(line)
        if directive is None:
            break
        if directive.group(1).lower() == "escape":
            return directive.group(2).strip() or "\\"
    return "\\"


def _words(text: str, variables: dict[str, str], escape: str = "\\", split: bool = True) -> list[str]:
    """Words as Docker's shell lexer reads an instruction's arguments: split at blanks outside quotes, quotes and
    the escape character taken away, ``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME:+word}`` replaced
    (not inside single quotes; an unset variable is empty)."""
    words: list[str] = []
    word: list[str] | None = None  # None: between words
    quote = None
    i = 0
    while i < len(text):
        char, piece = text[i], None
        if quote == "'":
            quote, piece = (None, None) if char == "'" else (quote, char)
            i += 1
        elif char == escape and i + 1 < len(text):
            following = text[i + 1]
            piece = following if quote is None or following in ('"', "$", escape) else char + following
            i += 2
        elif char == "$":
            piece, i = _variable(text, i, variables, escape)
            piece = piece or ("" if quote else None)  # an empty expansion outside quotes makes no word
        elif quote is None and char in "'\"":
            quote, piece = char, ""  # a quote starts a word, even an empty one
            i += 1
        elif quote == '"' and char == '"':
            quote = None
            i += 1
        elif quote is None and split and char.isspace():
            if word is not None:
                words.append("".join(word))
            word = None
            i += 1
        else:
            piece = char
            i += 1
        if piece is not None:
            word = [] if word is None else word
            word.append(piece)
    if word is not None:
        words.append("".join(word))
    return words


def _variable(text: str, start: int, variables: dict[str, str], escape: str) -> tuple[str, int]:
    """The value of the variable reference at ``text[start]`` (a ``$``) and the index after it."""
    if text.startswith("{", start + 1):
        end, depth = start + 2, 1
        while end < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        match = _MODIFIED.fullmatch(text[start + 2:end - 1])
        if depth or match is None:
            return text[start:end], end  # not a reference Docker reads: left as written
        name, colon, operator, word = match.groups()
        value = variables.get(name)
        empty = value is None or (colon == ":" and value == "")
        if operator == "-" and empty or operator == "+" and not empty:
            return "".join(_words(word, variables, escape, split=False)), end
        return ("" if operator == "+" else value or ""), end
    name = _NAME.match(text, start + 1)
    if name is None:
        return "$", start + 1
    return variables.get(name.group(), ""), name.end()


def copied_sources(dockerfile_text: str, build_args: dict[str, str] | None = None) -> list[str]:
    """What the COPY and ADD lines take from the build context (not --from=, not URLs, not heredocs), read as Docker
    does: the ARG and ENV variables of each stage (and the build's arguments) replaced, ``# escape=`` honoured."""
    build_args = build_args or {}
    escape = _escape_character(dockerfile_text)
    top: dict[str, str] = {}  # ARGs before the first FROM
    stage: dict[str, str] | None = None  # the current stage's ARGs, then ENVs (which win)
    envs: dict[str, str] = {}
    sources = []
    for instruction in _parsed(dockerfile_text):
        kind, rest = instruction["instruction"], instruction["value"].strip()
        variables = top if stage is None else {**stage, **envs}
        if kind == "FROM":
            stage, envs = {}, {}
        elif kind == "ARG":
            for word in _words(rest, variables, escape):
                name, equals, default = word.partition("=")
                if name in build_args:
                    value = build_args[name]
                else:  # a stage's ARG without a default takes the global one
                    value = default if equals else (top.get(name) if stage is not None else None)
                if value is not None:
                    (top if stage is None else stage)[name] = value
        elif kind == "ENV" and stage is not None:
            words = _words(rest, variables, escape)
            if words and "=" not in words[0]:  # the old form: ENV NAME the value
                name, _, value = rest.partition(" ")
                envs[name] = "".join(_words(value.strip(), variables, escape, split=False))
            else:
                envs.update(word.partition("=")[::2] for word in words)
        elif kind in ("COPY", "ADD"):
            try:
                words = [w for raw in json.loads(rest) for w in _words(str(raw), variables, escape, split=False)] \
                    if rest.startswith("[") else _words(rest, variables, escape)
            except ValueError:
                words = _words(rest, variables, escape)
            if any(word.startswith("--from") for word in words):
                continue
            paths = [word for word in words if not word.startswith("--")][:-1]
            sources += [path for path in paths if not _URL.match(path) and not _HEREDOC.fullmatch(path)]
    return sources


def _files(context: Path, sources: list[str], dockerfile: str) -> list[str]:
    """The context's files the sources name (globs and folders expanded), minus .dockerignore, sorted."""
    ignore = context / ".dockerignore"
    patterns = [p.strip() for p in ignore.read_text().splitlines() if p.strip() and not p.startswith("#")] \
        if ignore.is_file() else []
    allowed = exclude_paths(str(context), patterns, dockerfile=dockerfile)
    found = set()
    for source in sources:
        for match in glob.glob(str(context / source.lstrip("/")), recursive=True):
            path = Path(match)
            members = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            found.update(os.path.relpath(member, context) for member in members)
    return sorted(name for name in found if name in allowed)


def copied_files(service: Service, dockerfile_text: str | None = None) -> list[str]:
    """The build context's files the service's Dockerfile copies (COPY and ADD sources, globs and folders expanded,
    minus .dockerignore), relative to the context, sorted."""
    if dockerfile_text is None:
        dockerfile = service.build.context / service.build.dockerfile
        dockerfile_text = dockerfile.read_text(errors="replace") if dockerfile.is_file() else ""
    return _files(service.build.context, copied_sources(dockerfile_text, service.build.args), service.build.dockerfile)


def build_hash(service: Service) -> str | None:
    """A hash of the service's build inputs (None for a service without ``build``)."""
    if service.build is None:
        return None
    context = service.build.context
    dockerfile = context / service.build.dockerfile
    text = dockerfile.read_text(errors="replace") if dockerfile.is_file() else ""
    digest = hashlib.sha256(text.encode())
    for name in copied_files(service, text):
        digest.update(f"\0{name}\0".encode())
        digest.update(hashlib.sha256((context / name).read_bytes()).digest())
    return digest.hexdigest()[:16]


def labels(service: Service) -> dict[str, str]:
    """The fingerprint labels a service's container carries."""
    found = {LABEL_CONFIG: config_hash(service)}
    build = build_hash(service)
    if build:
        found[LABEL_BUILD] = build
    return found


def _image_id(client: docker.DockerClient, name: str) -> str | None:
    try:
        return client.images.get(name).id
    except ImageNotFound:
        return None


def stale(client: docker.DockerClient, project: Project, containers: dict) -> list[Stale]:
    """The services whose container (service -> container of the kept run) no longer matches the project."""
    found = []
    jobs = project.jobs()
    for name, service in project.services.items():
        container = containers.get(name)
        if container is None:
            found.append(Stale(name, "it is new in the compose file (no container yet)"))
            continue
        recorded = container.labels
        code = container.attrs.get("State", {}).get("ExitCode")
        if name in jobs and container.status == "exited" and code != 0:
            found.append(Stale(name, f"the one-shot job exited with code {code}"))
        elif container.status != "running" and not (name in jobs and container.status == "exited"):
            found.append(Stale(name, f"its container is {container.status}, not running"))
        elif LABEL_CONFIG not in recorded:
            found.append(Stale(name, "it was started without a fingerprint (by an older Crucible)"))
        elif recorded[LABEL_CONFIG] != config_hash(service):
            found.append(Stale(name, "its definition in the compose file (or a variable it uses) changed"))
        elif service.build and recorded.get(LABEL_BUILD) != build_hash(service):
            found.append(Stale(name, f"its build inputs in {service.build.context} (the Dockerfile or files it "
                                     f"copies) changed"))
        elif _image_id(client, service.image) not in (None, container.attrs.get("Image")):
            found.append(Stale(name, f"its image {service.image} now points to another image"))
    found += [Stale(name, "it is no longer in the compose file", gone=True)
              for name in sorted(set(containers) - set(project.services))
              if LABEL_CONFIG in containers[name].labels]  # not a helper of the run (a link proxy)
    return found
