"""A step that needs what an earlier step leaves (a load, a consumer expectation, a verification, recorded events)
says which step must come first when it is missing."""

from types import SimpleNamespace

import pytest

from crucible.errors import ContractError, TestDataError
from crucible.vocabulary.contracts import pacts, verification
from crucible.vocabulary.load import runner
from retail import announcements


@pytest.mark.parametrize("needs, error, names", [
    (runner.latest, TestDataError, "clients send GET requests to"),
    (pacts.expectation, TestDataError, "is a consumer of"),
    (verification.expect_honoured, ContractError, "consumers are verified against it"),
    (announcements.recorded, TestDataError, "Given the shop's events are being recorded"),
])
def test_a_missing_earlier_step_is_named(needs, error, names):
    with pytest.raises(error, match=names):
        needs(SimpleNamespace())


def test_what_the_earlier_step_left_is_handed_over():
    load = object()
    assert runner.latest(SimpleNamespace(load=load)) is load
