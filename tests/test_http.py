"""What the HTTP client records for the report: secrets and card numbers never appear."""

from crucible.vocabulary.http import mask, mask_card_numbers, mask_headers


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
