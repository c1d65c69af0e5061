"""What the HTTP client records for the report: secrets and card numbers never appear."""

import json

import threading
from http.server import ThreadingHTTPServer

from json_handler import JsonHandler

from crucible.vocabulary.http import HttpClient, mask, mask_body, mask_card_numbers, mask_headers, mask_url


def test_card_numbers_keep_only_their_last_four_digits():
    assert mask_card_numbers("card 4111 1111 1111 1111 used") == "card ************1111 used"
    assert mask_card_numbers("4390-3755-0265-0720") == "************0720"
    assert mask({"card": {"number": "4390375502650720"}}) == {"card": {"number": "************0720"}}
    assert mask({"pan": 4390375502650720, "amount_cents": 2500}) == {"pan": "***", "amount_cents": 2500}
    assert mask([4390375502650720]) == ["************0720"]


def test_ids_and_short_numbers_are_left_alone():
    uuid = "1fbda7ab-3c1e-4b8e-9f0a-2d6b1c9e7a55"
    assert mask({"id": uuid, "quantity": 5, "last4": "0720", "ts": "2026-11-25T09:36:50.097Z"}) == {
        "id": uuid, "quantity": 5, "last4": "0720", "ts": "2026-11-25T09:36:50.097Z"}
    assert mask_card_numbers("order-12345678901") == "order-12345678901"


def test_secret_headers_are_masked():
    assert mask_headers({"Authorization": "Bearer x", "X-Request-ID": "r1"}) == {
        "Authorization": "***", "X-Request-ID": "r1"}


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_tokens_and_passwords_the_recorder_used_to_miss_are_masked():
    # Field names it did not know, a token inside a message, a Luhn-valid card in free text.
    assert mask({"accessToken": JWT, "refresh_token": "opaque-refresh", "client_secret": "s3cret",
                 "db_password": "pw", "error": f"invalid token {JWT} for alice", "apiKey": "k-123"}) == {
        "accessToken": "***", "refresh_token": "***", "client_secret": "***", "db_password": "***",
        "error": "invalid token *** for alice", "apiKey": "***"}
    assert mask({"note": "call me, card 4111-1111-1111-1111 exp 12/30"}) == {"note": "call me, card ************1111 exp 12/30"}


def test_secret_headers_are_found_by_name():
    assert mask_headers({"X-Auth-Token": "abc", "X-Api-Key": "k", "Set-Cookie": "sid=1", "Accept": "*/*",
                         "WWW-Authenticate": 'Bearer realm="crucible"', "Location": f"/cb#id_token={JWT}"}) == {
        "X-Auth-Token": "***", "X-Api-Key": "***", "Set-Cookie": "***", "Accept": "*/*",
        "WWW-Authenticate": 'Bearer realm="crucible"', "Location": "/cb#id_token=***"}


def test_urls_lose_their_passwords_and_secret_parameters():
    assert mask_url(f"http://svc:8000/orders?access_token={JWT}&limit=5&api_key=k1&flag") == (
        "http://svc:8000/orders?access_token=***&limit=5&api_key=***&flag")
    assert mask_url("amqp://crucible:broker-pw@localhost:5672/%2F") == "amqp://crucible:***@localhost:5672/%2F"
    assert mask_url("http://h/cards/4111111111111111") == "http://h/cards/************1111"


def test_raw_bodies_are_masked_as_json_or_as_text():
    assert json.loads(mask_body('{"password": "hunter2", "user": "alice"}')) == {"password": "***", "user": "alice"}
    assert mask_body(f"grant_type=password&password=hunter2&token={JWT}") == (
        "grant_type=password&password=***&token=***")


def test_what_an_answer_held_before_masking_is_kept_for_the_audit():
    import threading
    from http.server import HTTPServer

    from crucible import secrets
    from crucible.vocabulary.http import HttpClient
    from crucible.vocabulary.security.audit import Audit

    class Leaky(JsonHandler):
        def do_GET(self):
            self.answer(200, json.dumps({"card": "4111 1111 1111 1111", "session": JWT, "note": f"token {JWT}"}).encode())

    server = HTTPServer(("127.0.0.1", 0), Leaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen = []
    try:
        HttpClient("leaky", f"http://127.0.0.1:{server.server_port}", record=seen.append).get("/x")
    finally:
        server.shutdown()

    audit = Audit(secrets.Secrets())
    audit.saw_answer(seen[0].service, seen[0].title, audit.secrets.kinds(seen[0].response.text), "Alice looks")
    assert [str(finding) for finding in audit.found] == [
        "a JWT (2 times), a card number in the answer of leaky to GET /x (in 'Alice looks')"]
    assert "4111" not in seen[0].render().replace("************1111", "") and JWT not in seen[0].render()


class Together(JsonHandler):
    """Answers a request only once a second one is under way too (a barrier): sequential calls would time out."""

    protocol_version = "HTTP/1.1"
    barrier = threading.Barrier(2)

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        try:
            self.barrier.wait(timeout=3)
            status, body = 201, b'{"together": true}'
        except threading.BrokenBarrierError:
            status, body = 504, b'{"together": false}'
        self.answer(status, body)


def test_a_request_sent_at_the_same_moment_is_under_way_n_times_at_once_each_recorded():
    Together.barrier = threading.Barrier(2)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Together)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    recorded = []
    client = HttpClient("svc", f"http://127.0.0.1:{httpd.server_address[1]}", record=recorded.append)
    try:
        answers = client.at_once("POST", "/returns", 2, json={"n": 1}, headers={"Idempotency-Key": "k"})
    finally:
        httpd.shutdown()
    assert [a.status_code for a in answers] == [201, 201]
    assert [e.status for e in recorded] == [201, 201] and all(e.request_body == {"n": 1} for e in recorded)
    assert [e.response for e in recorded] == answers  # recorded in the order they arrived
