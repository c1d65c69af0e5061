"""Crucible's link proxy: forwards TCP connections from one service to another, late or not at all.

    crucible-link-proxy LISTEN_PORT=HOST:PORT [...]

Each listening port forwards every connection to HOST:PORT. Two toxics, in the spirit of
Toxiproxy's, and a gathering are changed at run time through a small HTTP API on port 8474:

    GET /toxics                      -> {"latency_ms": 0, "drop": false, "connections": 3, "forwarded": 41, ...}
    PUT /toxics {"latency_ms": 500}  -> every chunk the upstream sends back is held 500 ms (order kept)
    PUT /toxics {"drop": true}       -> open connections are cut at once, new ones are closed on arrival
    PUT /toxics {"gather": 2, "gather_timeout_ms": 5000}
                                     -> the next 2 calls are held, each before its first byte reaches the
                                        upstream, until both wait; then all go on at the same moment. A race
                                        between them happens on purpose, whatever the machine's load. After
                                        the timeout the calls held so far go on. Once only; GET shows the
                                        gathering under way ("gathering") and the last one ("gathered":
                                        {"wanted": 2, "held": 2, "timed_out": false}). {"gather": 0} lets go.

A call is a connection's next request: whatever the caller sends while a gathering is under way is
held, on new and kept-alive connections alike (concurrent HTTP calls use separate connections).

CONTROL_PORT and LISTEN_HOST (environment) move the API's port and the address listened on.
Standard library only (the image is Debian's python3 on debian:bookworm-slim).
"""

import asyncio
import json
import logging
import os
import sys
import time

CONTROL_PORT = int(os.environ.get("CONTROL_PORT", "8474"))
LISTEN_HOST = os.environ.get("LISTEN_HOST", "0.0.0.0")
CHUNK = 65536
CONNECT_TIMEOUT = 5.0

logging.basicConfig(level=logging.INFO, format="%(asctime)s link-proxy %(message)s")
log = logging.getLogger("link-proxy")
toxics = {"latency_ms": 0.0, "drop": False}
counts = {"forwarded": 0, "dropped": 0}
open_transports = set()


class Gathering:
    """Hold the next ``wanted`` calls until all of them wait, then let them go together (or at the timeout)."""

    current = None  # the gathering under way
    last = None  # what the last one that ended did

    def __init__(self, wanted, timeout_s):
        self.wanted, self.held = wanted, set()
        self.gone = asyncio.Event()
        self.timer = asyncio.get_running_loop().call_later(timeout_s, self.release, True)
        self.started = time.monotonic()

    def state(self, timed_out=False):
        return {"wanted": self.wanted, "held": len(self.held), "timed_out": timed_out,
                "waited_ms": round((time.monotonic() - self.started) * 1000)}

    async def hold(self, connection):
        """Hold one call until the gathering ends."""
        self.held.add(connection)
        log.info("call held (%d of %d)", len(self.held), self.wanted)
        if len(self.held) >= self.wanted:
            self.release()
        await self.gone.wait()

    def release(self, timed_out=False):
        """Let every held call go on at once; the gathering ends."""
        if self.gone.is_set():
            return
        self.timer.cancel()
        Gathering.last = self.state(timed_out)
        if Gathering.current is self:
            Gathering.current = None
        self.gone.set()
        log.info("%d held call(s) released together%s", len(self.held), " (timed out)" if timed_out else "")

    @classmethod
    def start(cls, wanted, timeout_s):
        if cls.current is not None:
            cls.current.release()
        cls.last = None
        if wanted > 0:
            cls.current = cls(wanted, timeout_s)


async def pipe(reader, writer, delayed, gathered=False):
    """Copy one direction of a connection; with ``delayed``, each chunk waits the latency first (order kept);
    with ``gathered``, a chunk that arrives while a gathering is under way waits until it ends."""
    queue = asyncio.Queue()

    async def release():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.ensure_future(release())
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            gathering = Gathering.current
            if gathered and gathering is not None:
                await gathering.hold(writer.transport)
            latency = toxics["latency_ms"] / 1000 if delayed else 0.0
            await queue.put((time.monotonic() + latency, data))
        await queue.put((0.0, None))
        await sender
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError, asyncio.CancelledError):
        pass
    finally:
        sender.cancel()


async def forward(client_reader, client_writer, host, port):
    """Forward one caller's connection to the upstream service, unless the link drops connections."""
    if toxics["drop"]:
        counts["dropped"] += 1
        client_writer.transport.abort()
        return
    try:
        up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        log.info("cannot reach %s:%s: %s", host, port, exc)
        client_writer.transport.abort()
        return
    counts["forwarded"] += 1
    transports = {client_writer.transport, up_writer.transport}
    open_transports.update(transports)
    try:
        await asyncio.gather(pipe(client_reader, up_writer, False, True), pipe(up_reader, client_writer, True))
    finally:
        open_transports.difference_update(transports)
        for transport in transports:
            transport.abort()


def set_toxics(changes):
    """Apply new toxic values; cutting connections closes every open one."""
    if "latency_ms" in changes:
        toxics["latency_ms"] = max(0.0, float(changes["latency_ms"]))
    if "drop" in changes:
        toxics["drop"] = bool(changes["drop"])
        if toxics["drop"]:
            if Gathering.current is not None:
                Gathering.current.release()
            for transport in list(open_transports):
                transport.abort()
    if "gather" in changes:
        Gathering.start(int(changes["gather"]), float(changes.get("gather_timeout_ms", 5000)) / 1000)
    log.info("toxics now %s%s", toxics, f", gathering {changes['gather']} calls" if "gather" in changes else "")


def state():
    """The toxics, the connections and what was forwarded, and the gathering under way or the last one."""
    current = Gathering.current
    return {**toxics, "connections": len(open_transports) // 2, **counts,
            "gathering": current.state() if current is not None else None, "gathered": Gathering.last}


async def control(reader, writer):
    """A minimal HTTP/1.1 JSON API: GET and PUT /toxics."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = next((int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")),
                      0)
        body = await reader.readexactly(length) if length else b""
        status = "200 OK"
        if path != "/toxics":
            status, answer = "404 Not Found", {"error": "only /toxics is served"}
        elif method == "PUT":
            set_toxics(json.loads(body or b"{}"))
            answer = state()
        elif method == "GET":
            answer = state()
        else:
            status, answer = "405 Method Not Allowed", {"error": "GET or PUT"}
    except (ValueError, asyncio.IncompleteReadError) as exc:
        status, answer = "400 Bad Request", {"error": str(exc)}
    payload = json.dumps(answer).encode()
    writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                 f"Connection: close\r\n\r\n".encode() + payload)
    await writer.drain()
    writer.close()


async def main(routes):
    servers = [await asyncio.start_server(control, LISTEN_HOST, CONTROL_PORT)]
    for listen, (host, port) in routes.items():
        servers.append(await asyncio.start_server(
            lambda r, w, h=host, p=port: forward(r, w, h, p), LISTEN_HOST, listen))
        log.info("forwarding :%d to %s:%d", listen, host, port)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def parse(args):
    """``8000=fraud:8000`` ... -> {8000: ("fraud", 8000)}."""
    routes = {}
    for arg in args:
        listen, _, target = arg.partition("=")
        host, _, port = target.rpartition(":")
        routes[int(listen)] = (host, int(port))
    return routes


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    asyncio.run(main(parse(sys.argv[1:])))
