"""crucible self-check: the defect catalogue, mutants, the kill matrix, and whole runs against a real engine.

The runs use tests/selfcheck/, a one-service stack built from source (a greeting service) with two
scenarios and three defects: one the suite catches, one it does not (a survivor), one it does not but
that is accepted. `make test` also runs two defects of the reference platform's own catalogue.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crucible import settings
from crucible.errors import SettingsError
from crucible.selfcheck import catalogue, command, matrix, mutants, variant
from crucible.selfcheck.catalogue import CatalogueError
from crucible.selfcheck.suite import Outcome, SuiteRun, first_line, scenario_name
from crucible.stack import session

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "selfcheck"
DIFF = """diff --git a/greeter/app.py b/greeter/app.py
--- a/greeter/app.py
+++ b/greeter/app.py
@@ -9,7 +9,7 @@ def greeting(name):
     \"\"\"The greeting for a name, or None when the name is too long.\"\"\"
     if len(name) > MAX_NAME:
         return None
-    return {"greeting": f"Hello, {name}!", "letters": len(name)}
+    return {"greeting": f"Hello, {name}!", "letters": len(name) + 1}
 
 
 class Handler(BaseHTTPRequestHandler):
"""


@pytest.fixture
def project(tmp_path):
    """A copy of the test project (its reports go into the copy), with its settings and compose model."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("reports", "__pycache__"))
    options = settings.load(start=root, environ={})
    return root, options, session.load_project(options)


# --- the catalogue --------------------------------------------------------------------------------------


def test_a_defect_file_gives_its_description_tags_reason_notes_and_files():
    text = "Defect: Names are miscounted\nTags: @greetings\nAccepted: nobody reads it\n\nSeen in SHOP-1.\n\n" + DIFF
    defect = catalogue.parse(text, "defects/x.patch", "x")

    assert (defect.description, defect.tags, defect.accepted, defect.notes) == (
        "Names are miscounted", "@greetings", "nobody reads it", "Seen in SHOP-1.")
    assert defect.files == ["greeter/app.py"]


@pytest.mark.parametrize("text, expected", [
    ("Tags: @a\n\n" + DIFF, "defects/x.patch:1: no 'Defect:' line"),
    ("Defect: x\nTag: @a\n\n" + DIFF, "defects/x.patch:2: unknown header 'Tag'; did you mean 'Tags'?"),
    ("Defect: x\nAccepted:\n\n" + DIFF, "'Accepted:' needs the reason"),
    ("Defect: x\n\njust words, no diff\n", "no diff in this file"),
    ("Defect: x\n\n" + DIFF.replace("greeter/app.py", "../outside.py"), "paths must be relative"),
])
def test_a_defect_file_that_cannot_be_used_is_refused_naming_the_file_and_line(text, expected):
    with pytest.raises(CatalogueError) as error:
        catalogue.parse(text, "defects/x.patch", "x")
    assert expected in str(error.value)


def test_a_patch_that_no_longer_applies_is_refused_before_anything_starts(tmp_path):
    shutil.copytree(PROJECT, tmp_path / "p")
    (tmp_path / "p" / "defects" / "stale.patch").write_text("Defect: x\n\n" + DIFF.replace("> MAX_NAME", "> 30"))

    with pytest.raises(CatalogueError) as error:
        catalogue.load(tmp_path / "p" / "defects", tmp_path / "p")
    assert "defects/stale.patch: the diff no longer applies to greeter/app.py" in str(error.value)
    assert "git diff > defects/stale.patch" in str(error.value)


def test_the_catalogue_loads_every_patch_in_name_order_and_selects_by_id():
    defects = catalogue.load(PROJECT / "defects", PROJECT)

    assert [d.id for d in defects] == ["letters-miscounted", "plain-text-answers", "wrong-greeting"]
    assert catalogue.select(defects, ["wrong-greeting.patch"])[0].description.startswith("People are greeted")
    with pytest.raises(CatalogueError, match="No defect 'wrong-greting' \\(did you mean 'wrong-greeting'\\?\\)"):
        catalogue.select(defects, ["wrong-greting"])


def test_a_patch_applied_in_memory_changes_only_the_patched_line():
    change = catalogue.parse("Defect: x\n\n" + DIFF, "d", "x").changes[0]
    original = (PROJECT / "greeter" / "app.py").read_text()

    patched = catalogue.patched(change, PROJECT, "d")

    assert patched == original.replace('"letters": len(name)}', '"letters": len(name) + 1}')


def test_a_defect_outside_every_build_context_is_refused(project):
    root, _, model = project
    defect = catalogue.parse("Defect: x\n\n" + DIFF.replace("greeter/app.py", "features/x.py"), "d.patch", "d")

    with pytest.raises(CatalogueError, match="d.patch: the diff changes features/x.py, which no service builds "
                                             "from.*greeter \\(greeter\\)"):
        variant.touched_services(model, defect, root)


def test_a_variant_image_is_tagged_after_the_service_image_and_the_defect():
    defect = catalogue.parse("Defect: x\n\n" + DIFF, "d", "refund twice!")

    assert variant.image_tag("crucible/orders:dev", defect) == "crucible/orders:dev-defect-refund-twice"
    assert variant.image_tag("localhost:5000/orders", defect) == "localhost:5000/orders:latest-defect-refund-twice"


def test_the_unbroken_runs_choose_every_scenario_any_defect_runs():
    def defect(tags):
        return catalogue.parse(f"Defect: x\n{'Tags: ' + tags if tags else ''}\n\n" + DIFF, "d", "x")

    assert command.union([defect("@b"), defect("@a"), defect("@b")]) == "(@a) or (@b)"
    assert command.union([defect("@a")]) == "@a"
    assert command.union([defect("@a"), defect(None)]) is None


def test_tags_that_choose_no_scenario_are_refused_naming_the_defect(project):
    root, options, model = project
    (root / "defects" / "wrong-greeting.patch").write_text(
        (root / "defects" / "wrong-greeting.patch").read_text().replace("@greetings", "@greeting"))
    defects = catalogue.load(root / "defects", root)

    with pytest.raises(CatalogueError, match="defects/wrong-greeting.patch: 'Tags: @greeting' selects none of the 2 "
                                             "scenarios"):
        command.preflight(defects, options, model)


def test_the_reference_catalogue_holds_twenty_defects_that_apply_and_each_chooses_scenarios():
    root = HERE.parent
    options = settings.load(start=root, environ={})
    model = session.load_project(options)
    defects = catalogue.load(options.path("selfcheck.defects"), root)

    command.preflight(defects, options, model)  # raises naming the defect whose patch, service or tags are wrong

    assert len(defects) >= 20
    assert {s.name for d in defects for s in variant.touched_services(model, d, root)} >= {
        "orders", "inventory", "payments", "fraud"}


# --- settings: the images a stack runs ---------------------------------------------------------------------


def test_a_service_can_run_a_given_image_instead_of_its_build(project):
    root, _, _ = project
    options = settings.load(userdata={"services.greeter.image": "greeter:candidate"}, start=root, environ={})

    greeter = session.load_project(options).services["greeter"]

    assert (greeter.image, greeter.build) == ("greeter:candidate", None)


def test_an_image_for_a_service_the_stack_lacks_is_refused_with_the_closest_name(project):
    root, _, _ = project
    options = settings.load(userdata={"services.greeting.image": "x"}, start=root, environ={})

    with pytest.raises(SettingsError, match="no service 'greeting'; did you mean 'greeter'"):
        session.load_project(options)


# --- mutants ------------------------------------------------------------------------------------------------


def test_mutants_are_sampled_deterministically_from_every_family(project):
    root, _, model = project

    first = mutants.generate(model, "greeter", root, 5, seed=3, tags=None)
    again = mutants.generate(model, "greeter", root, 5, seed=3, tags=None)
    other = mutants.generate(model, "greeter", root, 5, seed=4, tags=None)

    assert [m.id for m in first] == [m.id for m in again] != [m.id for m in other]
    assert {m.description.rsplit("(", 1)[1].rstrip(")") for m in first} == set(mutants.families())
    assert all(m.kind == "mutant" and m.files == ["greeter/app.py"] for m in first)


def test_a_mutant_is_a_one_line_patch_with_its_place_and_change(project):
    root, _, model = project
    found = [c for c in mutants.candidates(mutants.sources(model, "greeter", root)) if c.family == "call removed"]

    defect = mutants.mutant(found[-1], root, "@greetings")

    assert defect.description == ('greeter/app.py:39: ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()'
                                  ' -> pass (call removed)')
    assert defect.tags == "@greetings"
    changed = [line for line in defect.patch.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++")]
    assert changed == ['-    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()', "+    pass"]


def test_a_service_without_source_or_an_unknown_target_cannot_be_mutated(project):
    root, _, model = project

    with pytest.raises(mutants.MutantError, match="neither a service of the stack \\(greeter\\) nor a file"):
        mutants.sources(model, "nowhere", root)


# --- the matrix ---------------------------------------------------------------------------------------------


def _run(**statuses: str) -> SuiteRun:
    return SuiteRun(outcomes={name: Outcome(name, status, f"{name} went wrong" if status != "passed" else "")
                              for name, status in statuses.items()}, seconds=1.0)


def _defect(name: str, accepted: str | None = None):
    return catalogue.parse(f"Defect: {name}\n" + (f"Accepted: {accepted}\n" if accepted else "") + "\n" + DIFF,
                           "d", name)


def test_a_scenario_that_fails_against_the_unbroken_stack_is_a_false_alarm_and_catches_nothing():
    kills = matrix.Matrix("p", baseline={"first": _run(a="passed", b="failed"), "last": _run(a="passed", b="passed")})
    entry = kills.judge(matrix.Entry(_defect("x"), run=_run(a="passed", b="failed")))

    assert entry.verdict == matrix.SURVIVED
    assert [o.scenario for _, o in kills.false_alarms()] == ["b"]
    assert not kills.passed()


def test_verdicts_caught_survived_accepted_not_started_and_not_judged():
    kills = matrix.Matrix("p", baseline={"first": _run(a="passed"), "last": _run(a="passed")})
    caught = kills.judge(matrix.Entry(_defect("c"), run=_run(a="broken")))
    survived = kills.judge(matrix.Entry(_defect("s"), run=_run(a="passed")))
    accepted = kills.judge(matrix.Entry(_defect("k", accepted="known"), run=_run(a="passed")))
    dead = kills.judge(matrix.Entry(_defect("d"), run=SuiteRun(error="the stack did not start: boom")))
    lost = kills.judge(matrix.Entry(_defect("e"), run=SuiteRun(error="the suite wrote no results")))

    assert [e.verdict for e in (caught, survived, accepted, dead, lost)] == [
        matrix.CAUGHT, matrix.SURVIVED, matrix.ACCEPTED, matrix.CAUGHT, matrix.ERROR]
    assert dead.how == matrix.NOT_STARTED
    kills.entries = [caught, accepted, dead]
    assert kills.passed() and kills.score() == (2, 3)
    kills.entries.append(survived)
    assert not kills.passed()
    assert kills.summary().startswith("score 2/4 defects caught (50%); 2 survivor(s) (1 accepted); 0 false alarm(s)")


def test_an_outline_example_is_named_with_its_parameters():
    result = {"fullName": "Screening: Large orders", "parameters": [{"name": "quantity", "value": "4"}]}

    assert scenario_name(result) == "Screening: Large orders [quantity=4]"


# --- whole runs against the engine -----------------------------------------------------------------------


def _self_check(engine_client, root: Path, *args: str) -> tuple[int, str, dict]:
    """Run `crucible self-check` in the project; its exit code, output and kill matrix. Nothing of it may be left."""
    name = f"{os.environ.get('CRUCIBLE_PROJECT', 'crucible')}-selfcheck"
    env = {**os.environ, "CRUCIBLE_PROJECT": name, "CRUCIBLE_SETTINGS": str(root / "crucible.toml"),
           "CRUCIBLE_IMAGE_TAG": os.environ.get("CRUCIBLE_IMAGE_TAG", "test")}
    env.pop("CRUCIBLE_RUN_ATTACH", None)
    proc = subprocess.run([sys.executable, "-m", "crucible", "self-check", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    kill_matrix = root / "reports" / "self-check" / "kill-matrix.json"
    found = json.loads(kill_matrix.read_text()) if kill_matrix.exists() else {}
    left = engine_client.containers.list(all=True, filters={"label": f"crucible.project={name}"})
    variants = [tag for image in engine_client.images.list(name="crucible-selfcheck/greeter") for tag in image.tags
                if "-defect-" in tag or "-mutant-" in tag]
    assert not left and not variants, f"left behind: {[c.name for c in left]} {variants}"
    return proc.returncode, proc.stderr + proc.stdout, found


def test_the_catalogue_is_judged_defect_by_defect_with_a_survivor_failing_the_check(engine_client, project):
    root, _, _ = project

    code, output, found = _self_check(engine_client, root)

    assert code == 1, output[-3000:]
    by_id = {d["id"]: d for d in found["defects"]}
    assert by_id["wrong-greeting"]["verdict"] == "caught"
    assert by_id["wrong-greeting"]["caught_by"] == [{
        "scenario": "Greetings: A greeting names the person", "status": "failed",
        "message": '$.greeting: expected "Hello, Ann!" but was "Hi, Ann!"'}]
    assert by_id["wrong-greeting"]["services_rebuilt"] == ["greeter"]
    assert by_id["letters-miscounted"]["verdict"] == "survived"
    assert by_id["plain-text-answers"]["verdict"] == "survived (accepted)"
    assert found["score"] == {"caught": 1, "total": 3, "percent": 33.3}
    assert found["false_alarms"] == [] and found["unbroken_runs"]["last"]["scenarios"] == 2
    assert [s["id"] for s in found["survivors"]] == ["letters-miscounted", "plain-text-answers"]
    assert "SURVIVED letters-miscounted: The letters of a name are counted one short" in output
    assert "[3/3] wrong-greeting: caught, 1 scenario(s) failed (elapsed" in output
    table = (root / "reports" / "self-check" / "kill-matrix.md").read_text()
    assert "| `letters-miscounted` | The letters of a name are counted one short | all | **SURVIVED** |" in table
    report = root / "reports" / "self-check" / "report" / "index.html"
    assert report.is_file() and report.stat().st_size > 100_000
    names = [json.loads(p.read_text())["name"] for p in (root / "reports/self-check/allure-results").glob("*-result.json")]
    assert "The letters of a name are counted one short" in names and "Kill matrix: 1 of 3 defects caught" in names


def test_caught_and_accepted_defects_pass_and_mutants_are_judged_the_same_way(engine_client, project):
    root, _, model = project

    code, output, found = _self_check(engine_client, root, "--defect", "wrong-greeting", "--defect", "plain-text-answers")
    assert code == 0, output[-3000:]
    assert [d["verdict"] for d in found["defects"]] == ["caught", "survived (accepted)"]

    code, output, found = _self_check(engine_client, root, "--mutants", "greeter", "--max", "3", "--seed", "2")
    expected = mutants.generate(model, "greeter", root, 3, seed=2, tags=None)
    assert [d["id"] for d in found["defects"]] == [m.id for m in expected], output[-3000:]
    assert all(d["kind"] == "mutant" and d["verdict"] in ("caught", "survived") for d in found["defects"])
    assert code == (1 if found["survivors"] else 0)
    assert f"score {found['score']['caught']}/3 defects caught" in output


def test_the_first_failure_message_is_its_first_line_and_the_next_when_that_ends_in_a_colon():
    assert first_line("\n  expected 6 but was 3\nthe JSON body of ...") == "expected 6 but was 3"
    assert first_line("Contract violation: payments GET /payments answered 200, which it does not allow:\n"
                      "  - $.payments[0].captured_cents: a required field\n(exchange ...)") == (
        "Contract violation: payments GET /payments answered 200, which it does not allow: "
        "$.payments[0].captured_cents: a required field")
    assert first_line(None) == ""
