"""A loopback TCP port that forwards to the local engine's socket: the same engine, reached as a remote one is."""

from __future__ import annotations

import socket
import socketserver
import threading

ENGINE_SOCKET = "/var/run/docker.sock"


class _Pipe(socketserver.BaseRequestHandler):
    """One client connection, copied both ways to a new connection to the engine's socket."""

    def handle(self) -> None:
        self.server.connections += 1
        engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        engine.connect(ENGINE_SOCKET)
        back = threading.Thread(target=_copy, args=(engine, self.request), daemon=True)
        back.start()
        _copy(self.request, engine)
        back.join(timeout=60)
        engine.close()


def _copy(source: socket.socket, target: socket.socket) -> None:
    """Copy until the source closes, then close the target's sending side."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Forwarder(socketserver.ThreadingTCPServer):
    """Listens on ``host``:random port; ``url`` is the DOCKER_HOST that reaches the engine through it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.2"):
        super().__init__((host, 0), _Pipe)
        self.connections = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"tcp://{host}:{port}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
