#!/usr/bin/env python3
"""Start docker/compose.yaml with plain `docker run` (no compose) and report when each service is ready.

Mirrors what the harness does: one throwaway network, each container reachable by its service name,
ports published on 127.0.0.1 at random host ports, a service starts as soon as its depends_on
conditions hold, readiness = its healthcheck command run with `docker exec` every 200 ms.
Images must already be built (docker build ...); nothing is pulled, built or deleted.

    python3 docker/bench_startup.py                  # start, measure, remove the containers and network
    python3 docker/bench_startup.py --keep --prefix sut1   # leave it running; prints service URLs as JSON
    python3 docker/bench_startup.py --down --prefix sut1   # remove a kept stack
Needs Python 3 with PyYAML and the docker CLI.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

COMPOSE = Path(__file__).with_name("compose.yaml")
POLL = 0.2  # seconds between healthcheck execs, as the harness does (--poll to change)
TIMEOUT = 60.0


def interpolate(value):
    """Resolve ${VAR:-default} and ${VAR} from the environment, as compose does."""
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        name, default = match.group(1), match.group(3) or ""
        return os.environ.get(name) or default

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", substitute, value)


def docker(*args, check=True):
    """Run a docker CLI command and return its stdout."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def healthcheck_command(service):
    """The exec form of a service's healthcheck test."""
    test = service["healthcheck"]["test"]
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", test[1]]
    return test[1:]


def run_stack(prefix, keep, poll=POLL):
    """Start every service, wait for each, print the timings; remove everything unless keep."""
    services = interpolate(yaml.safe_load(COMPOSE.read_text()))["services"]
    network = f"{prefix}-net"
    started = {name: threading.Event() for name in services}
    ready = {name: threading.Event() for name in services}
    times, errors = {}, {}
    docker("network", "create", "--label", f"org.crucible.bench={prefix}", network)
    t0 = time.monotonic()

    def start(name, spec):
        try:
            for dep, rule in (spec.get("depends_on") or {}).items():
                gate = ready[dep] if rule.get("condition") == "service_healthy" else started[dep]
                if not gate.wait(TIMEOUT):
                    raise RuntimeError(f"dependency {dep} not {rule.get('condition')}")
            args = ["run", "-d", "--name", f"{prefix}-{name}", "--hostname", name, "--network", network,
                    "--network-alias", name, "--label", f"org.crucible.bench={prefix}"]
            for key, value in (spec.get("environment") or {}).items():
                args += ["-e", f"{key}={value}"]
            for port in spec.get("ports") or []:
                args += ["-p", str(port)]
            for path in spec.get("tmpfs") or []:
                args += ["--tmpfs", path]
            args.append(spec["image"])
            command = spec.get("command")
            if command:
                args += command if isinstance(command, list) else command.split()
            docker(*args)
            times[name] = {"started": time.monotonic() - t0}
            started[name].set()
            check = healthcheck_command(spec)
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                probe = subprocess.run(["docker", "exec", f"{prefix}-{name}", *check], capture_output=True)
                if probe.returncode == 0:
                    times[name]["ready"] = time.monotonic() - t0
                    ready[name].set()
                    return
                time.sleep(poll)
            raise RuntimeError(f"not ready after {TIMEOUT}s")
        except Exception as exc:  # report, let the others finish
            errors[name] = str(exc)

    threads = [threading.Thread(target=start, args=(name, spec)) for name, spec in services.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = max((t.get("ready", 0) for t in times.values()), default=0)
    print(f"{'service':<10} {'started':>8} {'ready':>8}")
    for name in services:
        entry = times.get(name, {})
        ready_at = f"{entry['ready']:.2f}s" if "ready" in entry else "FAILED"
        print(f"{name:<10} {entry.get('started', float('nan')):>7.2f}s {ready_at:>8}")
    print(f"whole stack ready after {total:.2f}s" if not errors else f"errors: {errors}")
    if keep:
        urls = {}
        for name, spec in services.items():
            for port in spec.get("ports") or []:
                target = str(port).rsplit(":", 1)[-1]
                host = docker("port", f"{prefix}-{name}", target, check=False).splitlines()
                if host:
                    scheme = "amqp" if target == "5672" else "postgresql" if target == "5432" else "http"
                    urls[name] = f"{scheme}://{host[0]}"
        print(json.dumps(urls, indent=2))
    else:
        down(prefix)
    return 1 if errors else 0


def down(prefix):
    """Remove the containers and the network of a bench stack (never images)."""
    ids = docker("ps", "-aq", "--filter", f"label=org.crucible.bench={prefix}").split()
    if ids:
        docker("rm", "-f", "-v", *ids)
    docker("network", "rm", f"{prefix}-net", check=False)


def main():
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default=f"sutbench{os.getpid()}", help="container/network name prefix")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument("--down", action="store_true", help="remove a kept stack")
    parser.add_argument("--poll", type=float, default=POLL, help="seconds between healthcheck execs (default 0.2)")
    args = parser.parse_args()
    if args.down:
        down(args.prefix)
        return 0
    return run_stack(args.prefix, args.keep, args.poll)


if __name__ == "__main__":
    sys.exit(main())
