"""Compose files read as YAML the way Compose reads them, remembering the line of every key and item.

Mappings become ``Node`` and sequences ``Seq``: a dict and a list that also know where they and each
of their entries are written, so a problem found after merge keys (``<<:``), interpolation or the
merging of several files still names the right file and line. Scalars follow YAML 1.2 as Compose
does (``no``, ``on`` and ``22:22`` are text, not booleans or base-60 numbers). ``!reset`` and
``!override`` are Compose's tags for files merged over others.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from crucible.stack.compose.problems import Findings, Loc

BOOL, INT, FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
TIMESTAMP, MERGE = "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge"


class Node(dict):
    """A YAML mapping that remembers where it and each of its keys are written."""

    def __init__(self, data: Any = (), at: Loc | None = None, where: dict | None = None, replace: bool = False):
        super().__init__(data)
        self.at = at
        self.where = dict(where or {})
        self.replace = replace  # !override: replaces what it is merged over instead of merging into it

    def loc(self, key: Any) -> Loc | None:
        """Where ``key`` is written (else where the mapping starts)."""
        return self.where.get(key, self.at)


class Seq(list):
    """A YAML sequence that remembers where it and each of its items are written."""

    def __init__(self, data: Any = (), at: Loc | None = None, where: list | None = None, replace: bool = False):
        super().__init__(data)
        self.at = at
        self.where = list(where or [])
        self.replace = replace

    def loc(self, index: int) -> Loc | None:
        """Where item ``index`` is written (else where the sequence starts)."""
        return self.where[index] if 0 <= index < len(self.where) else self.at


class _Reset:
    """Compose's ``!reset``: remove what an earlier file set here."""

    def __repr__(self) -> str:
        return "!reset"


RESET = _Reset()


def locate(tree: Any, path: tuple) -> Loc | None:
    """The most precise place known for ``path`` inside ``tree``."""
    found = getattr(tree, "at", None)
    node = tree
    for part in path:
        if isinstance(node, Node) and part in node:
            found, node = node.loc(part) or found, node[part]
        elif isinstance(node, Seq) and isinstance(part, int) and part < len(node):
            found, node = node.loc(part) or found, node[part]
        else:
            break
    return found


def like(original: Any, data: Any) -> Any:
    """A new Node or Seq holding ``data`` that keeps ``original``'s locations and !override flag."""
    if isinstance(original, Node):
        return Node(data, original.at, original.where, original.replace)
    if isinstance(original, Seq):
        return Seq(data, original.at, original.where, original.replace)
    return data


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 scalars, located containers and Compose's tags."""

    file: Path = Path("?")
    findings: Findings | None = None

    def at(self, node: yaml.Node) -> Loc:
        """Where a node starts."""
        return Loc(self.file, node.start_mark.line + 1)


# YAML 1.2 core schema scalars (what Compose's parser reads), instead of PyYAML's YAML 1.1 ones.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in entries if tag not in (BOOL, INT, FLOAT, TIMESTAMP)]
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                      r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def _key_text(key: Any) -> str:
    """Mapping keys are text in Compose, whatever YAML made of them."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _duplicates(loader: _Loader, node: yaml.MappingNode) -> None:
    """Report keys written twice in one mapping (Compose refuses them; PyYAML would keep the last)."""
    explicit = [k for k, _ in node.value if k.tag != MERGE and isinstance(k, yaml.ScalarNode)]
    for text, count in Counter(k.value for k in explicit).items():
        if count > 1:
            lines = [str(k.start_mark.line + 1) for k in explicit if k.value == text]
            loader.findings.problem(Loc(loader.file, int(lines[1])), (), f"key '{text}' is written {count} times in one mapping "
                                    f"(lines {', '.join(lines)})", "keep one of them")


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    _duplicates(loader, node)
    loader.flatten_mapping(node)  # merge keys (<<:) keep the key nodes, hence the lines, of their anchor
    result = Node(at=loader.at(node))
    for key_node, value_node in node.value:
        key = _key_text(loader.construct_object(key_node, deep=True))
        result[key] = loader.construct_object(value_node, deep=True)
        result.where[key] = loader.at(key_node)
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    return Seq([loader.construct_object(item, deep=True) for item in node.value], loader.at(node),
               [loader.at(item) for item in node.value])


def _integer(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    return int(text, 0) if text.lower().lstrip("+-").startswith(("0o", "0x")) else int(text, 10)


def _override(loader: _Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        value = _mapping(loader, node)
    elif isinstance(node, yaml.SequenceNode):
        value = _sequence(loader, node)
    else:
        return loader.construct_scalar(node)
    value.replace = True
    return value


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_Loader.add_constructor(INT, _integer)
_Loader.add_constructor("!reset", lambda loader, node: RESET)
_Loader.add_constructor("!override", _override)


def decode(raw: bytes, path: Path, findings: Findings) -> str | None:
    """The file's text (UTF-8, or UTF-16 with a byte-order mark); a problem naming the line if it is not."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        findings.problem(Loc(path, line), (), f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02X} at column "
                         f"{column})", "save the file as UTF-8")
        return None


def read(path: Path, findings: Findings) -> Node | None:
    """One compose file as a located tree, or None (with the problem recorded) if it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        findings.problem(Loc(path), (), f"cannot read the compose file: {exc.strerror}",
                         "check the path (relative paths are relative to the current folder)")
        return None
    text = decode(raw, path, findings)
    if text is None:
        return None
    loader = _Loader(text)
    loader.file, loader.findings = path, findings
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        findings.problem(Loc(path, mark.line + 1 if mark else None), (), f"not valid YAML: {exc.problem}",
                         f"{exc.context} (line {exc.context_mark.line + 1})" if exc.context and exc.context_mark
                         else "")
        return None
    except yaml.YAMLError as exc:
        findings.problem(Loc(path), (), f"not valid YAML: {exc}")
        return None
    finally:
        loader.dispose()
    if data is None:
        findings.problem(Loc(path), (), "the file is empty", "describe the stack under a 'services:' key")
        return None
    if not isinstance(data, Node):
        findings.problem(Loc(path, 1), (), f"the file must be a YAML mapping with a 'services' key, not "
                         f"{type(data).__name__}")
        return None
    return data
