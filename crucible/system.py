"""Set-up commands on the host: Debian packages and one-off tools, bounded, errors with their output."""

from __future__ import annotations

import subprocess

from crucible.errors import CrucibleError

TIMEOUT_S = 900


def run(cmd: list[str], what: str, error: type[CrucibleError], hint: str = "") -> None:
    """Run a command; on failure raise ``error`` with its exit code and output (and a hint)."""
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-2000:]
        raise error(f"{what} failed (exit {result.returncode}):\n{tail}" + (f"\n  what to do: {hint}" if hint else ""))


def apt_install(package: str, error: type[CrucibleError], hint: str = "") -> None:
    """Install a Debian package, refreshing the package lists once if the first try fails."""
    command = ["apt-get", "install", "-y", "-qq", package]
    try:
        run(command, f"apt-get install {package}", error, hint)
    except CrucibleError:
        run(["apt-get", "update", "-qq"], "apt-get update", error, hint)
        run(command, f"apt-get install {package}", error, hint)
