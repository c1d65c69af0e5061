"""Failures of the generic HTTP steps lead with what differs; the exchange (whose body may hold random host
ports and ids, as an echo service's does) comes after, never in the first line."""

import json

import pytest
import requests

from crucible.vocabulary.matchers import at_json_path, equals_json, expected_value, matches_json
from crucible.vocabulary.rest import RestSession, json_satisfies

URL = "http://127.0.0.1:32935/anything/parcels"
ECHO = {"json": {"parcel": "p-1", "copies": 3}, "url": URL, "headers": {"Host": "127.0.0.1:32935"}}


def response(status: int = 200, body=ECHO, content_type: str = "application/json") -> requests.Response:
    """A response to POST /anything/parcels as an echo service on a random host port gives it."""
    found = requests.Response()
    found.status_code = status
    found._content = json.dumps(body).encode() if content_type == "application/json" else body.encode()
    found.headers["Content-Type"] = content_type
    found.request = requests.Request("POST", URL).prepare()
    return found


def session(answer: requests.Response) -> RestSession:
    """A scenario's HTTP state whose last response is ``answer``."""
    rest = RestSession(lambda service: None)
    rest.last = answer
    return rest


def failure(check) -> list[str]:
    """The lines of the AssertionError a check raises."""
    with pytest.raises(AssertionError) as raised:
        check()
    return str(raised.value).splitlines()


def test_a_json_mismatch_leads_with_the_path_expected_and_actual_value():
    lines = failure(lambda: session(response()).expect_json(
        at_json_path("$.json", matches_json({"parcel": "p-1", "copies": 6}))))
    assert lines[0] == "$.json.copies: expected 6 but was 3"
    assert lines[1].startswith('the JSON body of POST /anything/parcels -> 200: {"json": {"parcel": "p-1"')


def test_every_difference_comes_before_the_body():
    lines = failure(lambda: session(response()).expect_json(equals_json({"json": {"copies": 6}, "url": URL})))
    assert lines[:3] == ["$.json.copies: expected 6 but was 3", '$.json.parcel: unexpected field, was "p-1"',
                         '$.headers: unexpected field, was {"Host": "127.0.0.1:32935"}']
    assert lines[3].startswith("the JSON body of POST /anything/parcels -> 200: ")


def test_a_missing_path_names_the_fields_there_are_not_the_body():
    lines = failure(lambda: session(response()).expect_json(at_json_path("$.total", expected_value(3))))
    assert lines[0] == "$.total: there is no value at this path (the object there has: json, url, headers)"


def test_a_status_mismatch_leads_with_the_statuses():
    lines = failure(lambda: session(response(404, {"error": "no parcel"})).expect_status(200))
    assert lines == ["expected status 200 but got 404", 'POST /anything/parcels -> 404 {"error": "no parcel"}']


def test_a_header_mismatch_names_the_header_first():
    lines = failure(lambda: session(response()).expect_header("Content-Type", expected_value("text/plain")))
    assert lines[0] == "header 'Content-Type': expected 'text/plain' but was 'application/json'"


def test_a_body_that_is_not_json_says_what_it_is():
    lines = failure(lambda: session(response(content_type="text/html", body="<p>hi</p>")).json())
    assert lines == ["expected a JSON body but got text/html", 'POST /anything/parcels -> 200 "<p>hi</p>"']


def test_no_line_but_the_body_carries_the_host_port():
    lines = failure(lambda: json_satisfies(at_json_path("$.json.copies", expected_value(6)))(response()))
    assert lines[0] == "$.json.copies: expected <6> but was <3>"
    assert [line for line in lines if "32935" in line] == [lines[-1]]
