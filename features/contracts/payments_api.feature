@contracts
Feature: Payments API contract
  The payments service's promises to the services that call it, described with the generic
  steps: one idempotency key never charges twice, a card shows only its last four digits, and
  nothing is refunded beyond what was captured.

  Background:
    Given I am authenticated as "till-{uid}" with the role "staff"
    And a new test card number is remembered as "card"

  Scenario: A repeated idempotency key returns the first payment and charges once
    Given the request header "Idempotency-Key" is "pay-{uid}"
    And I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "{card}"}}
      """
    And I remember the response JSON at "$.id" as "payment_id"
    When I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "{card}"}}
      """
    Then the response status is 201
    And the response header "Idempotent-Replayed" is "true"
    And the response JSON matches:
      """
      {"id": "{payment_id}", "status": "authorised", "amount_cents": 2500,
       "card": {"bin": "@string@", "last4": "@regex(^[0-9]{4}$)@"}}
      """
    And I send a GET request to "payments" at "/payments" with query parameters:
      | name     | value       |
      | order_id | order-{uid} |
    And the response JSON at "$.payments" has 1 item

  Scenario: Nothing is refunded beyond what was captured
    Given the request header "Idempotency-Key" is "pay-{uid}"
    And I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "{card}"}}
      """
    And I remember the response JSON at "$.id" as "payment_id"
    And I send a POST request to "payments" at "/payments/{payment_id}/capture"
    And the request header "Idempotency-Key" is "refund-{uid}"
    When I send a POST request to "payments" at "/payments/{payment_id}/refunds" with JSON:
      """
      {"amount_cents": 2501}
      """
    Then the response status is 409
    And the response JSON at "$.reason" is "refund exceeds captured amount"
    And the response JSON at "$.refundable_cents" is 2500

  Scenario: Refunds together never exceed what was captured
    Given the request header "Idempotency-Key" is "pay-{uid}"
    And I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "{card}"}}
      """
    And I remember the response JSON at "$.id" as "payment_id"
    And I send a POST request to "payments" at "/payments/{payment_id}/capture"
    And the request header "Idempotency-Key" is "refund-1-{uid}"
    And I send a POST request to "payments" at "/payments/{payment_id}/refunds" with JSON:
      """
      {"amount_cents": 2000}
      """
    And the request header "Idempotency-Key" is "refund-2-{uid}"
    When I send a POST request to "payments" at "/payments/{payment_id}/refunds" with JSON:
      """
      {"amount_cents": 1000}
      """
    Then the response status is 409
    And the response JSON at "$.reason" is "refund exceeds captured amount"
    And the response JSON at "$.refundable_cents" is 500
