"""A loopback TCP port in front of the engine's unix socket: the same engine reached as a remote one is, and a
connection that can be cut as if the engine stopped."""

from __future__ import annotations

import socket
import threading

ENGINE_SOCKET = "/var/run/docker.sock"


class Forwarder:
    """Listens on ``host``:random port and copies each connection both ways to the engine's socket."""

    def __init__(self, host: str = "127.0.0.1", socket_path: str = ENGINE_SOCKET):
        self.socket_path = socket_path
        self.server = socket.socket()
        self.server.bind((host, 0))
        self.server.listen(32)
        self.host, self.port = self.server.getsockname()[:2]
        self.conns: list[socket.socket] = []
        self.connections = 0
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """The DOCKER_HOST that reaches the engine through this port."""
        return f"tcp://{self.host}:{self.port}"

    def _accept(self) -> None:
        while self.open:
            try:
                front, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                front.close()
                return
            back = socket.socket(socket.AF_UNIX)
            back.connect(self.socket_path)
            self.connections += 1
            self.conns += [front, back]
            for a, b in ((front, back), (back, front)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Stop listening and break every open connection."""
        self.open = False
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.server.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
