"""Deliberately broken variants of the platform turn the matching journey red, with a business message.

Each variant is a patched copy of the service's code in a temporary folder (the services carry no
defect switches), built under its own image tag and started as a stack of its own; behave then
runs the journey that guards against that defect and must fail it with the message a product
owner would read:

- the stock check under concurrency (inventory reserves from an unlocked read: lost updates)
  -> the holiday rush oversells;
- the outbox (a relay that gives up on events it could not publish while the broker is away)
  -> orders of a rush during a broker restart are not all announced;
- the timeout policy (payments approves when fraud does not answer in time: fail open)
  -> an order is confirmed although fraud was too slow.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from variants import patched_docker

from crucible.errors import EngineUnavailable
from crucible.stack import engine

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TAG = f"broken-{uuid.uuid4().hex[:6]}"

PATCHES = {
    "inventory/app.py": [
        ('cur.execute("SELECT sku, quantity FROM stock WHERE store = %s AND sku = ANY(%s) ORDER BY sku FOR UPDATE",',
         'cur.execute("SELECT sku, quantity FROM stock WHERE store = %s AND sku = ANY(%s) ORDER BY sku",'),
        ('adjust(cur, store, sku, "reserve", delta=-wanted[sku],',
         'adjust(cur, store, sku, "reserve", level=available[sku] - wanted[sku],'),
    ],
    "common/events.py": [
        ('''        _close_quietly(self.connection)
        self.connection = self.channel = None
        self.retry_at = time.monotonic() + RETRY_SECONDS''',
         '''        _close_quietly(self.connection)
        self.connection = self.channel = None
        self.retry_at = time.monotonic() + RETRY_SECONDS
        try:  # the defect: events that could not be published are given up
            with psycopg2.connect(self.dsn, connect_timeout=2) as pg, pg.cursor() as cur:
                cur.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
        except psycopg2.Error:
            pass'''),
    ],
    "payments/app.py": [
        ('''    except Unavailable as exc:
        raise ApiError(503, "fraud screening unavailable", reason="fraud unavailable", detail=str(exc)) from None''',
         '''    except Unavailable:  # the defect: fail open when fraud does not answer in time
        return {"id": None, "decision": "approve", "reasons": []}'''),
    ],
}

JOURNEYS = {
    ("features/load/holiday_rush.feature", "Customers rushing for scarce stock are all answered and nothing is "
                                           "oversold"):
        "expected no store to sell more 'Blue Mug' than it had, but the",
    ("features/faults/outbox_under_load.feature", "Every order of a rush is announced exactly once although the "
                                                  "broker restarts during it"):
        "expected every order to be announced exactly once, but",
    ("features/faults/outages.feature", "A fraud check slower than its time limit rejects the order without keeping "
                                        "the customer waiting"):
        "expected Alice's order to be rejected because \"payments unavailable\", but it was confirmed",
}


def line_of(feature: str, scenario: str) -> int:
    for number, line in enumerate((ROOT / feature).read_text().splitlines(), 1):
        if line.strip() == f"Scenario: {scenario}":
            return number
    raise AssertionError(f"no scenario '{scenario}' in {feature}")


def broken_copy(tmp_path: Path) -> Path:
    return patched_docker(tmp_path / "docker", PATCHES)


@pytest.fixture(scope="module")
def client():
    try:
        client = engine.connect(timeout=10)
    except EngineUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {exc}")
    yield client
    for service in ("orders", "inventory", "payments", "fraud", "postgres", "rabbitmq"):
        try:
            client.images.remove(f"crucible/{service}:{TAG}", noprune=False)
        except Exception:  # an image that was never built, or is shared, stays
            pass


def test_each_broken_variant_fails_its_journey_with_a_business_message(client, tmp_path):
    compose_file = broken_copy(tmp_path)
    report = tmp_path / "report.json"
    locations = [f"{feature}:{line_of(feature, scenario)}" for feature, scenario in JOURNEYS]
    env = {**os.environ, "CRUCIBLE_COMPOSE": str(compose_file), "CRUCIBLE_IMAGE_TAG": TAG,
           "CRUCIBLE_PROJECT": f"crucible-{TAG}", "CRUCIBLE_RUN_ATTACH": "", "CRUCIBLE_LOAD_SAMPLE_USAGE": "false"}
    result = subprocess.run([sys.executable, "-m", "behave", "-f", "json", "-o", str(report), "-f", "progress",
                             "--no-capture", *locations], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=900)
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    messages = {}
    for feature in json.loads(report.read_text()):
        for element in feature.get("elements", []):
            failed = [step for step in element.get("steps", []) if step.get("result", {}).get("status") == "failed"]
            messages[element["name"]] = (element.get("status"),
                                         failed[0]["result"].get("error_message", "") if failed else "")
    for (feature, scenario), expected in JOURNEYS.items():
        status, message = messages[scenario]
        text = "\n".join(message) if isinstance(message, list) else message
        print(f"{scenario}: {status}\n  {text.splitlines()[0] if text else ''}")
        assert status == "failed" and expected in text, f"{scenario}: {status} {text[:2000]}"
