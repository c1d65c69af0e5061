"""The contract side of the report as a stakeholder sees it: Contract violations, coverage, can-i-deploy.

A report is generated with the repo's configuration from a contract violation, a product defect and
the two contract sections `crucible report` writes, then opened in headless Chromium.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from report_page import dump_dom, embedded_files, needs_chromium

from crucible.report import results as report
from crucible.report import sections

VIOLATION = ("Contract violation: payments POST /payments/{payment_id}/capture answered 200, which its OpenAPI "
             "document does not allow")
DEFECT = "expected Alice's order to be confirmed, but it was rejected: not enough stock"
COVERAGE = "Contract coverage: documented operations and response codes this run exercised\n  payments ..."
MATRIX = "Can I deploy? Consumer x provider\n  orders  verified  failing (1 of 5)"

pytestmark = pytest.mark.skipif(not report.allure_cli().exists(), reason="the Allure CLI is missing: run crucible setup")


def result(results: Path, name: str, status: str, defect: str | None = None, message: str | None = None) -> None:
    """One allure-behave-shaped result, with Crucible's defect label when it failed."""
    data = {"uuid": str(uuid.uuid4()), "name": name, "fullName": f"Payments: {name}", "status": status,
            "historyId": uuid.uuid4().hex, "testCaseId": uuid.uuid4().hex,
            "start": 1_700_000_000_000, "stop": 1_700_000_000_050,
            "labels": [{"name": "epic", "value": "Contracts"}, {"name": "feature", "value": "Payments"}],
            "steps": [{"name": "When I capture it", "status": status, "start": 1_700_000_000_000,
                       "stop": 1_700_000_000_050}]}
    if defect:
        data["labels"].append({"name": "defect", "value": defect})
        data["statusDetails"] = {"message": message}
    (results / f"{data['uuid']}-result.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("contract-report")
    results = root / "results"
    results.mkdir()
    result(results, "A payment is captured", "failed", "contract", VIOLATION)
    result(results, "An order is confirmed", "failed", "product", DEFECT)
    result(results, "A payment is authorised", "passed")
    sections.write(results, {"Contract coverage": COVERAGE, "Can I deploy": MATRIX, "Nothing": ""})
    return report.generate(results, root / "report", history=root / "history.jsonl")


def test_the_sections_are_global_attachments_written_once(page):
    results = page.parent.parent / "results"
    globals_files = list(results.glob("*-globals.json"))

    assert [p.name for p in globals_files] == [sections.GLOBALS_FILE]
    attachments = json.loads(globals_files[0].read_text())["attachments"]
    assert [a["name"] for a in attachments] == ["Contract coverage", "Can I deploy"]  # empty ones are left out
    assert (results / attachments[1]["source"]).read_text() == MATRIX + "\n"
    embedded = embedded_files(page.read_text(encoding="utf-8"))
    assert any(body.startswith("Can I deploy?") for body in embedded.values())


@needs_chromium
def test_contract_violations_are_a_category_of_their_own_before_product_defects(page, tmp_path):
    dom = dump_dom(page, tmp_path / "profile", route="#/categories", ready="tree-leaf-title")
    text = dom.text()

    assert [node.text() for node in dom.all("tree-section-title")] == ["Contract violations", "Product defects"]
    assert text.index("Contract violations") < text.index(VIOLATION) < text.index("A payment is captured") \
        < text.index("Product defects") < text.index(DEFECT), text


@needs_chromium
def test_coverage_and_can_i_deploy_are_on_the_global_attachments_tab(page, tmp_path):
    dom = dump_dom(page, tmp_path / "profile", route="#/globalAttachments", ready="test-result-attachment-header")
    headers = [node.text() for node in dom.all("test-result-attachment-header")]

    assert len(headers) == 2 and "Contract coverage" in headers[0] and "Can I deploy" in headers[1], headers
    assert "Global Attachments 2" in dom.text()
