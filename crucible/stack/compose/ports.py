"""Published and exposed ports: every form Compose accepts, each number checked to be 1-65535."""

from __future__ import annotations

from typing import Any

from crucible.stack.compose.model import Port
from crucible.stack.compose.source import Node, Seq
from crucible.stack.compose.values import Values, is_address

PROTOCOLS = ("tcp", "udp", "sctp")


class Ports(Values):
    """Reads ``ports`` and ``expose``."""

    def ports(self, svc: Node, path: tuple, network_mode: str | None) -> tuple[Port, ...]:
        """Published ports, each container port once: each is bound to one random host port whatever the file
        says, so the same port written twice (by two files, or on two host ports) counts once."""
        items = svc.get("ports")
        if not isinstance(items, Seq) or self.checked(path + ("ports",)):
            return ()
        if items and network_mode and network_mode != "bridge":
            self.problem(svc, "ports", path + ("ports",), f"ports cannot be published with network_mode "
                         f"'{network_mode}'", "remove the ports, or the network_mode")
            return ()
        found: dict[tuple, Port] = {}
        for i, item in enumerate(items):
            for port in self.port(items, i, item, path + ("ports", i)):
                found.setdefault((port.container, port.protocol), port)
        return tuple(found.values())

    def port(self, items: Seq, i: int, item: Any, path: tuple) -> list[Port]:
        """One entry of ``ports`` (a range gives several)."""
        if isinstance(item, Node):
            return self.long_port(items, i, item, path)
        text = str(item)
        spec, _, protocol = text.partition("/")
        if spec.startswith("["):
            address, _, rest = spec[1:].partition("]")
            parts = [address] + rest[1:].split(":") if rest else [address]  # "[::1]:8080:80", "[::]::80"
        else:
            parts = spec.rsplit(":", 2)
        container, host = parts[-1], parts[-2] if len(parts) >= 2 else ""
        address = parts[-3] if len(parts) == 3 else ""
        return self.published(items, i, path, text, container, host, address, protocol or "tcp")

    def long_port(self, items: Seq, i: int, item: Node, path: tuple) -> list[Port]:
        """A port in the long form (target, published, host_ip, protocol)."""
        if "target" not in item:
            self.problem(items, i, path, "a port in the long form needs 'target'", "add target: CONTAINER_PORT")
            return []
        published = "" if item.get("published") is None else str(item["published"])
        return self.published(items, i, path, f"target {item['target']}", str(item["target"]), published,
                              str(item.get("host_ip") or ""), str(item.get("protocol") or "tcp"))

    def published(self, items: Seq, i: int, path: tuple, text: str, container: str, host: str, address: str,
                  protocol: str) -> list[Port]:
        """Ports from their parts, each number checked to be 1-65535. The host address and port are kept only to
        say they were not honoured: every port is bound to a random port of 127.0.0.1 (the stack says so, once,
        naming the ports it moved and where to)."""
        containers = self.port_range(items, i, path, text, container)
        hosts = self.port_range(items, i, path, text, host) if host else []
        if containers is None or hosts is None:
            return []
        if protocol not in PROTOCOLS:
            self.problem(items, i, path, f"port '{text}' has unknown protocol '{protocol}'",
                         f"use one of: {', '.join(PROTOCOLS)}")
            return []
        if address and address != "localhost" and not is_address(address):
            self.problem(items, i, path, f"port '{text}': '{address}' is not an IP address")
            return []
        if hosts and len(hosts) != len(containers):
            if len(containers) == 1:
                return [Port(containers[0], protocol, host, address)]  # a range of host ports for one port
            self.problem(items, i, path, f"port '{text}' maps {len(hosts)} host ports to {len(containers)} "
                         "container ports", "give ranges of the same length, or no host port")
            return []
        return [Port(c, protocol, hosts[n] if hosts else None, address) for n, c in enumerate(containers)]

    def port_range(self, items: Seq, i: int, path: tuple, text: str, part: str) -> list[int] | None:
        """``8000`` or ``8000-8002`` as a list of port numbers, each 1-65535 (None, with a problem, if not)."""
        first, _, last = part.partition("-")
        try:
            start, end = int(first), int(last or first)
        except ValueError:
            self.problem(items, i, path, f"cannot read port '{text}'",
                         "write CONTAINER_PORT (e.g. \"8000\") for a random host port, or HOST:CONTAINER")
            return None
        bad = [n for n in (start, end) if not 1 <= n <= 65535]
        if bad or end < start:
            why = f"{bad[0]} is outside 1-65535" if bad else f"the range {part} runs backwards"
            self.problem(items, i, path, f"port '{text}': {why}", "use port numbers from 1 to 65535")
            return None
        return list(range(start, end + 1))

    def expose(self, svc: Node, path: tuple) -> tuple[str, ...]:
        """Ports the container exposes to the stack's networks without publishing them."""
        items = svc.get("expose")
        if not isinstance(items, Seq) or self.checked(path + ("expose",)):
            return ()
        out = []
        for i, item in enumerate(items):
            spec, _, protocol = str(item).partition("/")
            numbers = self.port_range(items, i, path + ("expose", i), str(item), spec)
            out += [f"{n}/{protocol or 'tcp'}" for n in numbers or []]
        return tuple(dict.fromkeys(out))
