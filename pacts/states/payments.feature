Feature: Provider states of payments
  How payments' provider verification puts the service into each state its consumers' pacts name.
  Payments are made through its own API, each with a fresh test card (fraud counts every attempt of
  a card), and what a state remembers goes back into the replayed request.

  Background:
    Given I am authenticated as "pact-{uid}" with the role "staff"
    And a new test card number is remembered as "card"

  Scenario: fraud approves small amounts
    When I send a GET request to "fraud" at "/rules"
    Then the response JSON at "$.review_over_cents" is 50000

  Scenario: an authorised payment exists
    Given the request header "Idempotency-Key" is "pact-{uid}"
    When I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "{card}"}}
      """
    Then the response status is 201
    And I remember the response JSON at "$.id" as "payment_id"

  Scenario: a captured payment of 25.00 EUR exists
    Given the request header "Idempotency-Key" is "pact-{uid}"
    When I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "{card}"}}
      """
    And I remember the response JSON at "$.id" as "payment_id"
    And I send a POST request to "payments" at "/payments/{payment_id}/capture"
    Then the response status is 200
