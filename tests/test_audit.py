"""The data-flow audit against the real broker and databases of the reference stack."""

from __future__ import annotations

import uuid
from pathlib import Path

import jwt

from crucible import secrets, settings
from crucible.vocabulary import messaging
from crucible.vocabulary.auth import Auth
from crucible.vocabulary.http import HttpClient
from crucible.vocabulary.security.audit import Audit
from retail.shop import Names, Shop

REPO = Path(__file__).resolve().parents[1]


def test_events_published_after_the_audit_started_are_searched(reference_stack):
    exchange = f"crucible-audit-test-{uuid.uuid4().hex[:8]}"  # not declared by anyone yet
    options = settings.load(start=REPO, userdata={"broker.exchange": exchange})
    audit = Audit.start(reference_stack, options, secrets.Secrets())
    publisher = messaging.Listener(messaging.broker_url(reference_stack, options), exchange=exchange)
    token = jwt.encode({"sub": "alice", "role": "customer"}, "a-key-only-this-test-knows-0123456789", algorithm="HS256")
    try:
        publisher.publish("customer.signed_in", {"customer": "alice", "session": token})
        publisher.publish("customer.signed_out", {"customer": "alice"})
        audit.read_events()
    finally:
        publisher.close()
        audit.tap.remove()

    assert audit.tap_problem == "" and audit.events == 2
    assert [str(finding) for finding in audit.found] == ["a JWT in the event customer.signed_in"]


def test_every_column_of_every_services_database_is_searched(reference_stack):
    options = settings.load(start=REPO)
    project = reference_stack.project
    planted = f"planted-store-{uuid.uuid4().hex[:8]}"
    shop = Shop(lambda service: HttpClient(service, reference_stack.url(service)), Names(uuid.uuid4().hex[:8]),
                tokens=Auth(options, project).token)
    shop.names.store = lambda name: planted  # the store's id is the value the audit must find
    shop.set_stock("North", "Blue Mug", 5)
    known = secrets.of_project(project, options)
    audit = Audit(secrets.Secrets({**known.values, "the planted value": planted}))

    looked_at = audit.read_databases(reference_stack, options)

    assert sorted(looked_at) == ["fraud", "inventory", "orders", "payments"]
    places = {finding.place for finding in audit.found}
    assert {"column inventory.stock.store", "column inventory.outbox.envelope"} <= places
    assert all(place.startswith("column inventory.") for place in places)
