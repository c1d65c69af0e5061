"""A real run of a stack that echoes and logs its callers' credentials leaves none of them anywhere.

tests/planted/ is a project a team could have written: three httpbin services (the stand-in image of
tests/team), each with credentials of its own in crucible.toml (basic, an API-key header, a bearer
token), one of them logging a token and a database URL all the time. Each of its four scenarios fails
on purpose quoting what a service echoed: the basic credentials in a response body, the password
URL-encoded in a step's name, a remembered API key and the password JSON-escaped in a docstring, a
service's logs. `crucible run` must leave every planted value, in every form, out of the results
folder, the single-file report, the history and the console, and say what the run did in one count.
Each place is also checked to hold the masked text (``***``), so the test cannot pass by writing nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from crucible.report.safety import embedded_files

ROOT = Path(__file__).resolve().parents[1]
PLANTED = ROOT / "tests" / "planted"
TAG = re.sub(r"[^a-z0-9_.-]", "-", os.environ.get("CRUCIBLE_IMAGE_TAG", "test").lower())
PASSWORD = 'Pl@nted-pw/42"q'
VALUES = {
    "the basic password": PASSWORD,
    "the basic credentials": f"parcels:{PASSWORD}",
    "the API key": "planted-api-key-9c41d7",
    "the bearer token": "planted-bearer-token-61be0f",
    "the service token": "planted-service-token-5f2e9a",
    "the database password": "Db@planted-pw/7",
}


def forms(value: str) -> dict[str, str]:
    """A value as a text may carry it."""
    found = {"raw": value, "JSON-escaped": json.dumps(value)[1:-1],
             "JSON-escaped twice": json.dumps(json.dumps(value)[1:-1])[1:-1],
             "URL-encoded": quote(value, safe=""), "base64": base64.b64encode(value.encode()).decode()}
    return {how: form for how, form in found.items()}


FORMS = {f"{what}, {how}": form for what, value in VALUES.items() for how, form in forms(value).items()}


@pytest.fixture(scope="module")
def run(engine_client, tmp_path_factory):
    """`crucible run` in tests/planted, its reports in a folder of the test's own."""
    out = tmp_path_factory.mktemp("planted")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRUCIBLE_")}
    env.update(CRUCIBLE_IMAGE_TAG=TAG, CRUCIBLE_PROJECT=f"planted-{TAG}", CRUCIBLE_REPORT_RESULTS=str(out / "results"),
               CRUCIBLE_REPORT_OUTPUT=str(out / "report"), CRUCIBLE_REPORT_HISTORY=str(out / "history.jsonl"),
               CRUCIBLE_HOME=os.environ.get("CRUCIBLE_HOME", str(Path.home() / ".cache" / "crucible")))
    done = subprocess.run([str(Path(sys.executable).parent / "crucible"), "run"], cwd=PLANTED, env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=900)
    return done, out


def written(out: Path) -> dict[str, str]:
    """Every text the run wrote: each file of the results, the history, the report and its embedded files."""
    texts = {str(path.relative_to(out)): path.read_text(encoding="utf-8", errors="replace")
             for path in out.rglob("*") if path.is_file()}
    index = out / "report" / "index.html"
    texts.update({f"report: {name}": text for name, text in embedded_files(index.read_text(encoding="utf-8")).items()})
    return texts


def test_the_run_fails_its_four_scenarios_in_one_count(run):
    done, _ = run
    output = done.stdout + done.stderr

    assert done.returncode == 1, output[-4000:]
    assert "crucible: 4 scenarios: 0 passed, 4 failed, 0 skipped" in done.stderr, output[-4000:]
    assert done.stdout.rstrip().endswith("scenarios: 0 passed, 4 failed, 0 skipped"), done.stdout[-2000:]
    assert "scenarios passed" not in done.stdout  # behave's own summary, which counted differently, is gone
    assert "Report safety" not in output, output[-4000:]  # nothing reached the results unmasked


@pytest.mark.parametrize("form", FORMS)
def test_no_planted_secret_reaches_the_results_the_report_or_the_console(run, form):
    done, out = run
    secret = FORMS[form]
    places = {**written(out), "stdout": done.stdout, "stderr": done.stderr}

    assert [place for place, text in places.items() if secret in text] == []


def test_each_place_holds_what_it_said_with_the_secrets_masked(run):
    done, out = run
    texts = written(out)
    results = "\n".join(text for name, text in texts.items() if name.startswith("results/"))
    report = "\n".join(text for name, text in texts.items() if name.startswith("report: "))

    for where in (results, report, done.stdout):
        assert '"Authorization": "Basic ***"' in where.replace('\\"', '"')  # the echoed body, in a failure
        assert "/basic-auth/parcels/***" in where  # the step's name
        assert "using token *** (base64 ***) and database postgresql://parcels:***@db:5432/parcels" in where or \
            where is done.stdout  # the service's logs are attached, not printed
    # the docstring: on the console as written (the password masked), sent with its variable expanded
    assert '{"forwarded": "{key}", "password": "***"}' in done.stdout
    assert '"data": "{\\"forwarded\\": \\"***\\", \\"password\\": \\"***\\"}"' in results
