"""Deliberately changed variants of the reference platform: a patched copy of docker/ in a temporary folder.

The services carry no defect switches: a test that needs a broken or drifted service copies docker/,
replaces exact pieces of the services' code (each must occur exactly once, so a patch that no longer
applies fails loudly instead of testing the unchanged service) and builds the copy under an image tag
of its own. Used by tests/test_contracts_stack.py and tests/test_security_faults.py (broken variants
of the whole suite: `crucible self-check`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def patched_docker(target: Path, patches: dict[str, list[tuple[str, str]]]) -> Path:
    """Copy docker/ to ``target`` and apply ``patches`` (file under docker/ -> (original, changed) pairs);
    return the copy's compose file."""
    shutil.copytree(ROOT / "docker", target)
    for name, replacements in patches.items():
        path = target / name
        text = path.read_text(encoding="utf-8")
        for original, changed in replacements:
            assert text.count(original) == 1, f"docker/{name} changed: update the variant's patch of\n{original}"
            text = text.replace(original, changed)
        path.write_text(text, encoding="utf-8")
    return target / "compose.yaml"
