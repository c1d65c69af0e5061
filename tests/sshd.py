"""A throwaway sshd on a loopback address and a home folder whose ~/.ssh trusts it: this machine reached over ssh.

Needs Debian's openssh-server (``/usr/sbin/sshd``) and root. The client side (docker-py through paramiko)
reads ~/.ssh/config and ~/.ssh/known_hosts of $HOME: point HOME at :attr:`Sshd.home` (the caller's own
~/.ssh is not touched).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from crucible.report.results import tool_home

SSHD = Path("/usr/sbin/sshd")


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Sshd:
    """sshd listening on ``host``:random port, letting root in with a key made for it."""

    def __init__(self, folder: Path, host: str = "127.0.0.3"):
        self.folder, self.host, self.port = folder, host, free_port(host)
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True)
        (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
        (folder / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress {host}\nHostKey {folder / 'host_key'}\nPidFile {folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nStrictModes no\nPasswordAuthentication no\n"
            f"KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\n")
        self.home = folder / "home"
        (self.home / ".ssh").mkdir(parents=True)
        (self.home / ".ssh" / "config").write_text(f"Host {host}\n  IdentityFile {folder / 'client_key'}\n")
        host_key = " ".join((folder / "host_key.pub").read_text().split()[:2])
        (self.home / ".ssh" / "known_hosts").write_text(f"[{host}]:{self.port} {host_key}\n")
        Path("/run/sshd").mkdir(exist_ok=True)
        self.proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=open(folder / "sshd.log", "w"))
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex((self.host, self.port)) == 0

    @property
    def url(self) -> str:
        return f"ssh://root@{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """HOME with an ~/.ssh that reaches this sshd (the tools Crucible installs stay where they are)."""
        return {"HOME": str(self.home), "CRUCIBLE_HOME": str(tool_home())}

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
