"""Benchmark: Crucible's load generator against locust, same endpoint, same clients, same duration, one run.

Usage: .venv/bin/python benchmarks/load_vs_locust.py [--clients 20] [--seconds 15] [--rounds 2]

Brings the reference stack up (or uses the one `crucible up` left: --attach), then alternates, for
each round: Crucible's generator, locust's FastHttpUser, locust's HttpUser, each a closed loop
(no wait between requests) of N clients sending `GET /stock/{store}/{sku}` to the inventory service
with a staff token, for the same time. Locust runs as a subprocess from .venv-locust (made from
benchmarks/requirements-locust.txt on first use): importing locust monkey-patches the whole process
with gevent, which breaks the Docker SDK and pika. Every latency of both tools is kept (locust's
through its request event hook) and the percentiles of both are computed the same way (exact,
nearest rank); locust's own CSV percentiles are printed too. Quote the output; nothing is timed in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests

from crucible import settings
from crucible.stack import session
from crucible.timings import Timings
from crucible.vocabulary.auth import Auth
from crucible.vocabulary.load import generator, stats

ROOT = Path(__file__).resolve().parents[1]
LOCUST_VENV = ROOT / ".venv-locust"
LOCUSTFILE = '''
import json, os
from locust import HttpUser, FastHttpUser, constant, events, task

LATENCIES, FAILURES = [], [0]

@events.request.add_listener
def keep(response_time, exception, **kwargs):
    LATENCIES.append(response_time)
    if exception:
        FAILURES[0] += 1

@events.quitting.add_listener
def dump(environment, **kwargs):
    with open(os.environ["LATENCIES_OUT"], "w") as out:
        json.dump({"latencies": LATENCIES, "failures": FAILURES[0]}, out)

BASE = FastHttpUser if os.environ["USER_CLASS"] == "FastHttpUser" else HttpUser

class Reader(BASE):
    wait_time = constant(0)

    @task
    def read(self):
        self.client.get(os.environ["TARGET_PATH"], headers={"Authorization": os.environ["TOKEN"]})
'''


def locust_python() -> str:
    """The Python of .venv-locust, made from benchmarks/requirements-locust.txt when it is missing."""
    python = LOCUST_VENV / "bin" / "python"
    if not python.exists():
        print("making .venv-locust (benchmarks/requirements-locust.txt) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LOCUST_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r",
                        str(ROOT / "benchmarks" / "requirements-locust.txt")], check=True)
    return str(python)


def run_crucible(base: str, path: str, token: str, clients: int, seconds: float) -> dict:
    """Crucible's generator: every latency, requests per second."""
    call = generator.Call("GET stock", "GET", path, {"Authorization": token})
    plan = generator.Plan(clients, seconds, 10_000_000, 10.0)
    result = generator.run(base, generator.repeat(lambda n: call), plan, title="crucible", id_prefix="bench")
    latencies = [s.latency_ms for s in result.samples if s.latency_ms is not None]
    return {"requests": len(result.samples), "failures": sum(s.failed for s in result.samples),
            "seconds": result.elapsed, "latencies": latencies}


def run_locust(python: str, user_class: str, base: str, path: str, token: str, clients: int, seconds: float) -> dict:
    """locust headless in a subprocess: every latency through its event hook, and its own CSV percentiles."""
    with tempfile.TemporaryDirectory(prefix="crucible-locust-") as tmp:
        locustfile, out = Path(tmp) / "locustfile.py", Path(tmp) / "latencies.json"
        locustfile.write_text(textwrap.dedent(LOCUSTFILE))
        env = {**os.environ, "LATENCIES_OUT": str(out), "USER_CLASS": user_class, "TARGET_PATH": path,
               "TOKEN": token}
        started = time.perf_counter()
        subprocess.run([python, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(clients), "-r",
                        str(clients), "-t", f"{seconds:g}s", "--host", base, "--only-summary", "--csv",
                        str(Path(tmp) / "stats"), "--loglevel", "WARNING"], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 120)
        data = json.loads(out.read_text())
        own = {}
        for line in (Path(tmp) / "stats_stats.csv").read_text().splitlines()[1:]:
            cells = line.split(",")
            if cells[1] == '"Aggregated"' or cells[1] == "Aggregated":
                own = {"p50": cells[11], "p95": cells[15], "rps": cells[9]}
        # locust measures from spawning to stop; the run time it reports is the -t we gave
        return {"requests": len(data["latencies"]), "failures": data["failures"], "seconds": seconds,
                "latencies": data["latencies"], "own": own, "wall": time.perf_counter() - started}


def row(name: str, result: dict) -> str:
    lat = result["latencies"]
    rps = result["requests"] / result["seconds"]
    own = result.get("own") or {}
    extra = f"   (locust's own CSV: p50 {own.get('p50')} p95 {own.get('p95')} req/s {float(own.get('rps', 0)):.0f})" \
        if own else ""
    return (f"{name:<22} {result['requests']:>8} {result['failures']:>6} {rps:>8.1f} "
            f"{stats.percentile(lat, 50):>8.1f} {stats.percentile(lat, 95):>8.1f} {stats.percentile(lat, 99):>8.1f}"
            + extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--attach", action="store_true", help="use the stack `crucible up` left running")
    args = parser.parse_args()
    python = locust_python()
    options = settings.load(start=ROOT)
    project = session.load_project(options)
    timings = Timings()
    if args.attach:
        client, _ = session.connect(project, timings)
        stack = session.attach(client, project, None)
    else:
        client, _ = session.prepare(project, timings)
        stack = session.start(client, project, timings)
    try:
        base = stack.url("inventory")
        token = "Bearer " + Auth(options, project).token("bench-staff", "staff")
        path = "/stock/bench-north/bench-mug"
        requests.put(base + path, json={"quantity": 5}, headers={"Authorization": token}, timeout=10).raise_for_status()
        results: dict[str, list[dict]] = {"crucible (threads)": [], "locust FastHttpUser": [], "locust HttpUser": []}
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}: crucible, locust FastHttpUser, locust HttpUser ({args.clients} clients, "
                  f"{args.seconds:g} s each) ...", flush=True)
            results["crucible (threads)"].append(run_crucible(base, path, token, args.clients, args.seconds))
            results["locust FastHttpUser"].append(run_locust(python, "FastHttpUser", base, path, token, args.clients,
                                                             args.seconds))
            results["locust HttpUser"].append(run_locust(python, "HttpUser", base, path, token, args.clients,
                                                         args.seconds))
        print(f"\nGET {path} on inventory ({base}), {args.clients} clients, closed loop, {args.seconds:g} s, "
              f"{args.rounds} round(s); latencies in ms, exact nearest-rank percentiles of every request")
        print(f"{'tool':<22} {'requests':>8} {'failed':>6} {'req/s':>8} {'p50':>8} {'p95':>8} {'p99':>8}")
        for name, runs in results.items():
            for n, result in enumerate(runs, 1):
                print(row(f"{name} #{n}", result))
        ours = [r for r in results["crucible (threads)"]]
        for other in ("locust FastHttpUser", "locust HttpUser"):
            theirs = results[other]
            ratio = sum(r["requests"] for r in ours) / max(1, sum(r["requests"] for r in theirs))
            p50 = [stats.percentile(a["latencies"], 50) / stats.percentile(b["latencies"], 50) - 1
                   for a, b in zip(ours, theirs)]
            p95 = [stats.percentile(a["latencies"], 95) / stats.percentile(b["latencies"], 95) - 1
                   for a, b in zip(ours, theirs)]
            print(f"crucible / {other}: throughput x{ratio:.2f}; p50 {', '.join(f'{d:+.1%}' for d in p50)}; "
                  f"p95 {', '.join(f'{d:+.1%}' for d in p95)} (per round)")
    finally:
        if not args.attach:
            stack.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
