"""Several compose documents merged into one, by Compose's rules.

Mappings merge key by key (the later file wins), lists append, and ``command``, ``entrypoint`` and
``healthcheck.test`` are replaced rather than appended. ``!reset`` removes what an earlier file set;
``!override`` replaces it whole. Lists whose entries must be unique (ports, volumes, secrets, configs)
are made unique when they are read. The same merge gives ``extends`` its meaning.
"""

from __future__ import annotations

from typing import Any

from crucible.stack.compose.source import RESET, Node, Seq, like

REPLACED = {("command",), ("entrypoint",), ("healthcheck", "test")}


def merge(base: Any, over: Any, path: tuple = ()) -> Any:
    """``over`` merged onto ``base``; ``path`` is the position inside a service (for the exceptions)."""
    if over is RESET:
        return RESET
    if getattr(over, "replace", False) or path[-2:] in REPLACED or path[-1:] in REPLACED:
        return over
    if isinstance(base, Node) and isinstance(over, Node):
        out = like(base, dict(base))
        for key, value in over.items():
            merged = merge(base[key], value, path + (key,)) if key in base else value
            if merged is RESET:
                out.pop(key, None)
                out.where.pop(key, None)
                continue
            out[key] = merged
            out.where[key] = over.loc(key)
        return out
    if isinstance(base, Seq) and isinstance(over, Seq):
        return Seq(list(base) + list(over), over.at, base.where + over.where)
    return over


def merge_documents(base: Node, over: Node) -> Node:
    """Two whole documents merged (services are merged service by service)."""
    out = like(base, dict(base))
    for key, value in over.items():
        if key not in base:
            out[key] = value
        elif key == "services" and isinstance(base[key], Node) and isinstance(value, Node):
            services = like(base[key], dict(base[key]))
            for name, svc in value.items():
                services[name] = merge(base[key][name], svc) if name in base[key] else svc
                services.where[name] = base[key].loc(name) if name in base[key] else value.loc(name)
            out[key] = services
            continue
        else:
            out[key] = merge(base[key], value, (key,))
        out.where[key] = over.loc(key)
    return out


def without_resets(tree: Any) -> Any:
    """A tree with every ``!reset`` entry dropped (what is left to check when nothing is merged under it)."""
    if isinstance(tree, Node):
        return like(tree, {k: without_resets(v) for k, v in tree.items() if v is not RESET})
    if isinstance(tree, Seq):
        return like(tree, [without_resets(v) for v in tree if v is not RESET])
    return tree
