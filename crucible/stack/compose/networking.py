"""Networking: the networks services join (aliases, addresses, priority), network_mode, links, extra hosts."""

from __future__ import annotations

from typing import Any

from crucible.stack.compose.model import Attachment, Network, Service
from crucible.stack.compose.source import Node
from crucible.stack.compose.values import Values, is_address


class Networking(Values):
    """Reads ``networks``, ``network_mode``, ``links`` and ``extra_hosts``, of services and of the stack."""

    def network_mode(self, svc: Node, path: tuple) -> str | None:
        """``none``, ``bridge`` or ``service:NAME``; ``host`` and ``container:`` are refused."""
        value = svc.get("network_mode")
        if value is None:
            return None
        text, where = str(value), path + ("network_mode",)
        if "networks" in svc:
            self.problem(svc, "network_mode", where, "network_mode and networks cannot be used together",
                         "keep one of them")
        if text == "host":
            self.problem(svc, "network_mode", where, "network_mode 'host' is not supported: the service would "
                         "listen on every interface of this machine and two runs would collide",
                         "remove it and publish the ports the tests use")
        elif text.startswith("container:"):
            self.problem(svc, "network_mode", where, "a container outside the stack is not supported: a run "
                         "must be self-contained", "use service:NAME")
        elif text in ("none", "bridge") or text.startswith("service:"):
            return text
        else:
            self.problem(svc, "network_mode", where, f"network_mode '{text}' is unknown",
                         "use none, bridge or service:NAME (or join networks with `networks:`)")
        return None

    def attachments(self, svc: Node, path: tuple) -> dict[str, Attachment]:
        """The networks the service joins (``default`` when none are named), highest priority first."""
        value = svc.get("networks")
        if not isinstance(value, Node) or self.checked(path + ("networks",)):
            return {"default": Attachment()}
        declared = self.doc.get("networks") if isinstance(self.doc.get("networks"), Node) else Node()
        ranked = []
        for name, spec in value.items():
            where = path + ("networks", name)
            if name not in declared and name != "default":
                self.problem(value, name, where, f"joins network '{name}', which is not declared under the "
                             "top-level 'networks:'", f"add `networks: {{{name}: {{}}}}` at the top level")
                continue
            spec = spec if isinstance(spec, Node) else Node()
            for key in ("link_local_ips", "mac_address", "driver_opts", "interface_name", "gw_priority"):
                if key in spec:
                    self.notice(spec, key, where + (key,), f"'{key}' is ignored: the engine chooses it")
            if not self.boolean(spec, "use_service_name_alias", where, True):
                self.notice(spec, "use_service_name_alias", where + ("use_service_name_alias",),
                            "'use_service_name_alias' is ignored: steps and services reach a service by its name")
            self.fixed_addresses(spec, declared.get(name), where)
            aliases = tuple(self.texts(spec.get("aliases")))
            ranked.append((-(self.integer(spec, "priority", where, 0) or 0), len(ranked), name,
                           Attachment(aliases, spec.get("ipv4_address"), spec.get("ipv6_address"))))
        return {name: attachment for _, _, name, attachment in sorted(ranked)}

    def fixed_addresses(self, spec: Node, network: Any, where: tuple) -> None:
        """A fixed address must be an address, and the network must have a subnet to take it from."""
        for key in ("ipv4_address", "ipv6_address"):
            if key not in spec:
                continue
            ipam = network.get("ipam") if isinstance(network, Node) else None
            pools = ipam.get("config") if isinstance(ipam, Node) else None
            if not is_address(str(spec[key])):
                self.problem(spec, key, where + (key,), f"'{spec[key]}' is not an IP address")
            elif not pools:
                self.problem(spec, key, where + (key,), f"a fixed address needs a network with a subnet, and "
                             f"'{where[-1]}' has none", "give the network `ipam: {config: [{subnet: ...}]}`")

    def links(self, svc: Node, path: tuple) -> dict[str, str]:
        """Legacy links: alias -> service (each linked service is also waited for)."""
        out = {}
        for item in svc.get("links") or []:
            service, _, alias = str(item).partition(":")
            out[alias or service] = service
        return out

    def extra_hosts(self, value: Any, parent: Node, path: tuple) -> tuple[str, ...]:
        """Extra /etc/hosts entries as ``host:address`` (``host-gateway`` is the engine's own address)."""
        if not isinstance(value, Node):
            return ()
        out = []
        for host, addresses in value.items():
            for address in addresses if isinstance(addresses, list) else [addresses]:
                address = str(address).strip("[]")
                if address != "host-gateway" and not is_address(address):
                    self.problem(value, host, path + ("extra_hosts", host), f"'{address}' is not an IP address",
                                 "write HOST:ADDRESS, e.g. db.local:10.0.0.5, or host-gateway")
                    continue
                out.append(f"{host}:{address}")
        return tuple(out)

    def networks(self, model: dict[str, Service]) -> dict[str, Network]:
        """The networks the services join, each read from the top-level 'networks:'."""
        declared = self.doc.get("networks") if isinstance(self.doc.get("networks"), Node) else Node()
        used = list(dict.fromkeys(n for svc in model.values() for n in svc.networks))
        return {name: self.network(name, declared.get(name), declared) for name in used}

    def network(self, name: str, spec: Any, declared: Node) -> Network:
        """One network, created for each run: a bridge network labelled with the run."""
        where = ("networks", name)
        if not isinstance(spec, Node) or self.checked(where):
            return Network(name)
        driver = str(spec.get("driver") or "bridge")
        if driver != "bridge":
            self.notice(spec, "driver", where + ("driver",), f"created as a bridge network, not '{driver}': one "
                        "engine runs the whole stack")
        for key, why in (("name", "networks are named <project>-<run>-<network> so that runs do not collide"),
                         ("external", "it is created for the run, so that the stack is self-contained"),
                         ("driver_opts", "driver options could make two runs collide"),
                         ("attachable", "only the stack's services join it"),
                         ("enable_ipv4", "networks always have IPv4")):
            if spec.get(key) is not None and spec.get(key) is not False:
                self.notice(spec, key, where + (key,), f"'{key}' is ignored: {why}")
        ipam = spec.get("ipam") if isinstance(spec.get("ipam"), Node) else Node()
        pools = tuple({k: str(v) for k, v in pool.items() if k in ("subnet", "ip_range", "gateway")}
                      for pool in ipam.get("config") or [] if isinstance(pool, Node))
        if pools:
            self.notice(spec, "ipam", where + ("ipam",), "fixed subnets are honoured: two runs of this stack "
                        "cannot run on one engine at the same time")
        return Network(name, "bridge", self.boolean(spec, "internal", where), self.boolean(spec, "enable_ipv6", where),
                       self.strings(spec.get("labels"), spec, "labels", where), pools)
