@pact
Feature: What payments relies on fraud for
  Before authorising a card payment, the payments service asks fraud to screen it (the card's
  fingerprint, BIN and last four digits, never the number) and acts on the decision it gets back.

  Background:
    Given "payments" is a consumer of "fraud"

  Scenario: A payment is screened and gets a decision with its reasons
    Given the provider state "fraud approves small amounts"
    When the consumer sends a POST request to "/screenings" with JSON:
      """
      {"payment_id": "payment-1", "order_id": "order-1", "customer": "alice", "amount_cents": 2500,
       "card": {"fingerprint": "0f3c2e0d5b9b7c5d1e4a6f8a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e",
                "bin": "411111", "last4": "1111"}}
      """
    Then the provider answers 201 with:
      | field    | example                              | match                                 |
      | id       | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID                              |
      | decision | approve                              | matching ^(approve\|review\|decline)$ |
      | reasons  | []                                   | like this                             |
