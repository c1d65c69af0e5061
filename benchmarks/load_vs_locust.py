"""Benchmark: Crucible's load generator against locust, same endpoint, same clients, same duration, one run.

Usage: .venv/bin/python benchmarks/load_vs_locust.py [--clients 20] [--seconds 15] [--rounds 3] [--rate 150]

Brings the reference stack up (or uses the one `crucible up` left: --attach) and sends
`GET /stock/{store}/{sku}` to the inventory service with a staff token from N clients, with three
tools: Crucible's generator, locust's FastHttpUser and locust's HttpUser. Each round runs every tool
in three ways, each for the same time:

* closed loop (no wait between requests): the most each tool gets out of the stack, its throughput;
* paced at --rate requests per second in all (the n-th request of all clients not before n/rate
  seconds in: Crucible's generator by its calls' not_before, locust by a wait_time function doing
  the same; locust's own constant_throughput keeps each user's phase from its spawning, and locust
  spawns all users at once, so the stack would see all of them at once every period, bursts
  Crucible never sends): the same evenly spread arrivals from both and a stack that is not
  saturated, so the latencies are the endpoint's plus what each tool adds: the comparison of
  percentiles that means something;
* together: Crucible and locust at the same time, each at half that rate with its own clients, each
  tool's requests of the window both were sending: the stack, the machine and its noise are the same
  for both, so what is left between their percentiles is what the tools themselves add.

In a closed loop on two cores the tools share the CPU with the stack, so latency there is mostly
clients / throughput, and moves 20-30% between two runs of the same tool: compare throughput there.

The order of the tools turns each round, so that none always goes first. Locust runs as a
subprocess from .venv-locust (made from benchmarks/requirements-locust.txt on first use): importing
locust monkey-patches the whole process with gevent, which breaks the Docker SDK and pika. Every
latency of every tool is kept (locust's through its request event hook) and all percentiles are
computed the same way (exact, nearest rank) over all rounds. Quote the output; nothing is timed in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import itertools
import textwrap
from datetime import datetime, timedelta, timezone
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
import itertools, json, os
from time import perf_counter

import gevent
from locust import HttpUser, FastHttpUser, events, task

LATENCIES, FAILURES = [], [0]
RATE = float(os.environ["RATE"] or 0)  # requests per second in all (0: closed loop)
SLOTS, STARTED, IDS = itertools.count(), [], itertools.count(1)

@events.request.add_listener
def keep(response_time, exception, start_time=None, context=None, **kwargs):
    LATENCIES.append((start_time, response_time, (context or {}).get("id")))
    if exception:
        FAILURES[0] += 1

@events.quitting.add_listener
def dump(environment, **kwargs):
    with open(os.environ["LATENCIES_OUT"], "w") as out:
        json.dump({"latencies": LATENCIES, "failures": FAILURES[0]}, out)

def paced(user):
    # the n-th request of all users not before n/rate seconds in, as Crucible sends them; locust's own
    # constant_throughput keeps each user's phase from its spawning, and locust spawns them all at once
    if not RATE:
        return 0.0
    if not STARTED:
        STARTED.append(perf_counter())
    return max(0.0, STARTED[0] + next(SLOTS) / RATE - perf_counter())

BASE = FastHttpUser if os.environ["USER_CLASS"] == "FastHttpUser" else HttpUser

class Reader(BASE):
    wait_time = paced

    def on_start(self):
        gevent.sleep(paced(self))  # the first request waits for its turn too

    @task
    def read(self):
        request_id = f"{os.environ['ID_PREFIX']}-{next(IDS):05d}"
        self.client.get(os.environ["TARGET_PATH"], headers={"Authorization": os.environ["TOKEN"],
                                                           "X-Request-ID": request_id}, context={"id": request_id})
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


TOOLS = ("crucible (threads)", "locust FastHttpUser", "locust HttpUser")
RUNS = itertools.count(1)  # each run's request ids have a prefix of their own
LOCUST_START_S = 4.0  # Crucible runs this much longer than a locust started with it: locust takes a moment to start


def run_crucible(base: str, path: str, token: str, clients: int, seconds: float, rate: float | None) -> dict:
    """Crucible's generator: every latency (with when it was sent, epoch seconds, and its request id); ``rate``:
    the n-th call not before n/rate s."""
    def call(n: int) -> generator.Call:
        return generator.Call("GET stock", "GET", path, {"Authorization": token},
                              not_before=n / rate if rate else 0.0)

    plan = generator.Plan(clients, seconds, 10_000_000, 10.0)
    result = generator.run(base, generator.repeat(call), plan, title="crucible", id_prefix=f"bench-{next(RUNS)}")
    zero = result.started_at.timestamp()
    timed = [(zero + s.started, s.latency_ms, s.request_id) for s in result.samples if s.latency_ms is not None]
    return measured(timed, sum(s.failed for s in result.samples), seconds)


def start_locust(python: str, user_class: str, base: str, path: str, token: str, clients: int, seconds: float,
                 rate: float | None, folder: Path) -> subprocess.Popen:
    """locust headless in a subprocess (``rate``: in all, shared by the users); its latencies go to a file."""
    (folder / "locustfile.py").write_text(textwrap.dedent(LOCUSTFILE))
    env = {**os.environ, "LATENCIES_OUT": str(folder / "latencies.json"), "USER_CLASS": user_class,
           "TARGET_PATH": path, "TOKEN": token, "RATE": f"{rate:g}" if rate else "", "ID_PREFIX": f"bench-{next(RUNS)}"}
    return subprocess.Popen([python, "-m", "locust", "-f", str(folder / "locustfile.py"), "--headless", "-u",
                             str(clients), "-r", str(clients * 10), "-t", f"{seconds:g}s", "--host", base,
                             "--only-summary", "--loglevel", "WARNING"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def locust_result(proc: subprocess.Popen, folder: Path, seconds: float) -> dict:
    """Every latency locust's event hook kept, once it has stopped."""
    proc.wait(timeout=seconds + 120)
    data = json.loads((folder / "latencies.json").read_text())
    # locust's run time is the -t we gave (from spawning all users to stop)
    return measured([tuple(pair) for pair in data["latencies"]], data["failures"], seconds)


def run_locust(python: str, user_class: str, base: str, path: str, token: str, clients: int, seconds: float,
               rate: float | None) -> dict:
    """One locust run on its own."""
    with tempfile.TemporaryDirectory(prefix="crucible-locust-") as tmp:
        proc = start_locust(python, user_class, base, path, token, clients, seconds, rate, Path(tmp))
        return locust_result(proc, Path(tmp), seconds)


def run_together(python: str, user_class: str, base: str, path: str, token: str, args,
                 service) -> tuple[dict, dict]:
    """Crucible and locust at the same time, each at half the rate with its own clients; each tool's requests
    in the window both were sending (the stack, the machine and its noise the same for both), each with the time
    the service itself took for it (its log's duration_ms)."""
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    with tempfile.TemporaryDirectory(prefix="crucible-locust-") as tmp:
        proc = start_locust(python, user_class, base, path, token, args.clients, args.seconds, args.rate / 2, Path(tmp))
        ours = run_crucible(base, path, token, args.clients, args.seconds + LOCUST_START_S, args.rate / 2)
        theirs = locust_result(proc, Path(tmp), args.seconds)
    first = max(ours["timed"][0][0], theirs["timed"][0][0])
    last = min(ours["timed"][-1][0], theirs["timed"][-1][0])
    took = service_times(service, since)
    return window(ours, first, last, took), window(theirs, first, last, took)


def service_times(service, since: datetime) -> dict[str, float]:
    """What the service's own log says each request took (request id -> duration_ms)."""
    took = {}
    for line in service.container.logs(since=since).decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") == "request completed" and "duration_ms" in entry:
            took[entry.get("request_id")] = float(entry["duration_ms"])
    return took


def measured(timed: list[tuple[float, float, str]], failures: int, seconds: float) -> dict:
    """A run's results from its (sent at, latency ms, request id) triples."""
    timed.sort()
    return {"requests": len(timed), "failures": failures, "seconds": seconds, "timed": timed,
            "latencies": [latency for _, latency, _ in timed]}


def window(result: dict, first: float, last: float, took: dict[str, float]) -> dict:
    """The requests of a run sent between two moments; with ``added``: each one's latency minus what the service
    took for it (the network, the server's HTTP layer and the tool itself)."""
    inside = measured([sent for sent in result["timed"] if first <= sent[0] <= last], 0, last - first)
    inside["added"] = [latency - took[rid] for _, latency, rid in inside["timed"] if rid in took]
    return inside


def run(tool: str, python: str, base: str, path: str, token: str, args, rate: float | None) -> dict:
    """One run of one tool."""
    if tool.startswith("crucible"):
        return run_crucible(base, path, token, args.clients, args.seconds, rate)
    return run_locust(python, tool.split()[-1], base, path, token, args.clients, args.seconds, rate)


def pooled(runs: list[dict]) -> dict:
    """All rounds of one tool in one phase as one run."""
    return {"requests": sum(r["requests"] for r in runs), "failures": sum(r["failures"] for r in runs),
            "seconds": sum(r["seconds"] for r in runs), "latencies": [x for r in runs for x in r["latencies"]],
            "added": [x for r in runs for x in r.get("added", ())]}


def row(name: str, result: dict) -> str:
    lat = result["latencies"]
    rps = result["requests"] / result["seconds"]
    return (f"{name:<26} {result['requests']:>8} {result['failures']:>6} {rps:>8.1f} "
            f"{stats.percentile(lat, 50):>8.2f} {stats.percentile(lat, 95):>8.2f} {stats.percentile(lat, 99):>8.2f}")


def differences(ours: list[dict], theirs: list[dict], q: float) -> str:
    """Per round, how far our percentile is from theirs."""
    return ", ".join(f"{stats.percentile(a['latencies'], q) / stats.percentile(b['latencies'], q) - 1:+.1%}"
                     for a, b in zip(ours, theirs))


def report(phase: str, runs: dict[str, list[dict]], throughput: bool) -> None:
    """One phase's table (every round, then all rounds pooled) and crucible against each locust user class."""
    print(f"\n{phase}")
    print(f"{'tool':<26} {'requests':>8} {'failed':>6} {'req/s':>8} {'p50':>8} {'p95':>8} {'p99':>8}")
    for tool in runs:
        for n, result in enumerate(runs[tool], 1):
            print(row(f"{tool} #{n}", result))
    for tool in runs:
        print(row(f"{tool} all", pooled(runs[tool])))
    ours = pooled(runs[TOOLS[0]])
    for other in (tool for tool in runs if tool != TOOLS[0]):
        theirs = pooled(runs[other])
        said = [f"throughput x{ours['requests'] / max(1, theirs['requests']):.2f}"] if throughput else []
        for q in (50, 95):
            ratio = stats.percentile(ours["latencies"], q) / stats.percentile(theirs["latencies"], q)
            said.append(f"p{q} {ratio - 1:+.1%}"
                        f" (rounds: {differences(runs[TOOLS[0]], runs[other], q)})")
        print(f"crucible / {other}: " + "; ".join(said))
    for tool in runs:
        added = pooled(runs[tool])["added"]
        if added:
            print(f"{tool}: latency minus the service's own time (network, HTTP server, the tool) over "
                  f"{len(added)} requests found in its log: p50 {stats.percentile(added, 50):.2f} ms, "
                  f"p95 {stats.percentile(added, 95):.2f} ms, smallest {min(added):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=150, help="requests per second in all, paced phase")
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
        run_crucible(base, path, token, args.clients, 3, None)  # warm-up: every worker has served, pools are full
        phases = {"closed": (None, {tool: [] for tool in TOOLS}), "paced": (args.rate, {tool: [] for tool in TOOLS})}
        together = {user: {TOOLS[0]: [], f"locust {user}": []} for user in ("FastHttpUser", "HttpUser")}
        for round_ in range(args.rounds):
            order = TOOLS[round_ % 3:] + TOOLS[:round_ % 3]
            for phase, (rate, runs) in phases.items():
                print(f"round {round_ + 1}, {phase}: {', '.join(order)} ({args.clients} clients, {args.seconds:g} s "
                      f"each{f', {rate:g} req/s in all' if rate else ''}) ...", flush=True)
                for tool in order:
                    runs[tool].append(run(tool, python, base, path, token, args, rate))
            for user, runs in together.items():
                print(f"round {round_ + 1}, together: crucible and locust {user} at the same time ({args.clients} "
                      f"clients and {args.rate / 2:g} req/s each) ...", flush=True)
                ours, theirs = run_together(python, user, base, path, token, args, stack.service("inventory"))
                runs[TOOLS[0]].append(ours)
                runs[f"locust {user}"].append(theirs)
        print(f"\nGET {path} on inventory ({base}), {args.clients} clients, {args.seconds:g} s per run, "
              f"{args.rounds} round(s); latencies in ms, exact nearest-rank percentiles of every request")
        report("Closed loop (no wait): throughput", phases["closed"][1], throughput=True)
        report(f"Paced at {args.rate:g} req/s in all, one tool at a time: latency percentiles", phases["paced"][1],
               throughput=False)
        for user, runs in together.items():
            report(f"Together with locust {user}, {args.rate / 2:g} req/s each, the requests of the window both were "
                   f"sending: latency percentiles under the very same conditions", runs, throughput=False)
    finally:
        if not args.attach:
            stack.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
