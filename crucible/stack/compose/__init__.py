"""The Compose files real teams write, read into a typed model before anything starts.

``load`` reads one or more compose files as Compose does -- YAML 1.2 with merge keys and ``x-``
extensions, variables from the environment and the project's ``.env``, the official Compose
specification's JSON schema, ``extends`` and ``include``, several files merged in order, profiles --
and then checks what the result means for Crucible. Every problem of every file is reported in one
``ComposeError``, each with its file, line, service and key and what to do; what is ignored is said
once in a one-line notice. Nothing is started.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from crucible.errors import ComposeError
from crucible.stack.compose.documents import Documents, project_env
from crucible.stack.compose.merge import merge_documents, without_resets
from crucible.stack.compose.model import (COMPLETED, HEALTHY, STARTED, Attachment, Build, FileMount, Healthcheck,
                                          Hook, Mount, Network, Port, Project, Service, Volume)
from crucible.stack.compose.problems import Findings
from crucible.stack.compose.reader import Reader

__all__ = ["load", "default_name", "Project", "Service", "Build", "Port", "Healthcheck", "Hook", "Mount", "FileMount",
           "Attachment", "Network", "Volume", "COMPLETED", "HEALTHY", "STARTED"]


def default_name(path: Path, env: dict[str, str]) -> str:
    """The project name Compose would use: $COMPOSE_PROJECT_NAME, else the compose file's folder name."""
    raw = env.get("COMPOSE_PROJECT_NAME") or path.resolve().parent.name
    return re.sub(r"[^a-z0-9_-]", "", raw.lower()).lstrip("_-") or "default"


def load(paths: str | Path | list[Path], env: dict[str, str] | None = None, name: str | None = None,
         profiles: list[str] | tuple[str, ...] = ()) -> Project:
    """Load and check a stack's compose file(s), merged in order; raise ``ComposeError`` listing every problem.

    ``name`` overrides the project name (else the files' ``name:``, else the first file's folder name);
    ``profiles`` enables services of those Compose profiles (else $COMPOSE_PROFILES).
    """
    files = [Path(p).resolve() for p in paths] if isinstance(paths, (list, tuple)) else [Path(paths).resolve()]
    findings = Findings()
    folder = files[0].parent
    variables = project_env(folder, dict(os.environ if env is None else env), findings)
    documents = Documents(variables, findings)
    trees = [tree for tree in (documents.load(path, folder) for path in files) if tree is not None]
    project = None
    if trees:
        merged = trees[0]
        for tree in trees[1:]:
            merged = merge_documents(merged, tree)
        reader = Reader(without_resets(merged), variables, findings)
        project = reader.project(files, name, default_name(files[0], variables), list(profiles))
    findings.raise_problems()
    if project is None:
        raise ComposeError(f"{files[0]}: the compose file describes no stack")
    findings.say_notices()
    return project
