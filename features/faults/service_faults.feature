@faults @disruptive @api
Feature: Frozen and cut-off services, in the generic vocabulary
  What a team writes for its own stack: freeze a service, take one off the network, and check
  what its callers answer meanwhile. The stack is whole again before the next scenario.

  @timeouts
  Scenario: A frozen fraud service makes payments answer "fraud unavailable" within its time limit
    Given I am authenticated as "sam-{uid}" with the role "staff"
    And a new test card number is remembered as "card"
    And the request header "Idempotency-Key" is "pay-{uid}"
    And the "fraud" service is paused
    When I send a POST request to "payments" at "/payments" with JSON:
      """
      {"order_id": "order-{uid}", "amount_cents": 1000, "card": {"number": "{card}"}}
      """
    Then the response status is 503
    And the response JSON at "$.reason" is "fraud unavailable"

  Scenario: With the inventory off the network, checkout answers "inventory unavailable"
    Given I am authenticated as "sam-{uid}" with the role "staff"
    And a new test card number is remembered as "card"
    And the "inventory" service is disconnected from the network
    When I send a POST request to "orders" at "/orders" with JSON:
      """
      {"customer": "ann-{uid}", "store": "north-{uid}", "card": {"number": "{card}"},
       "items": [{"sku": "mug-{uid}", "quantity": 1, "unit_price_cents": 1000}]}
      """
    Then the response status is 503
    And the response JSON at "$.reason" is "inventory unavailable"

  @returns
  Scenario: A return sent twice at the same moment, its calls to payments let go together, is refunded once
    Given I am authenticated as "sam-{uid}" with the role "staff"
    And a new test card number is remembered as "card"
    And I send a PUT request to "inventory" at "/stock/north-{uid}/mug-{uid}" with JSON:
      """
      {"quantity": 5}
      """
    And I send a POST request to "orders" at "/orders" with JSON:
      """
      {"customer": "ann-{uid}", "store": "north-{uid}", "card": {"number": "{card}"},
       "items": [{"sku": "mug-{uid}", "quantity": 2, "unit_price_cents": 1000}]}
      """
    And I remember the response JSON at "$.id" as "order_id"
    And I remember the response JSON at "$.payment_id" as "payment_id"
    And the request header "Idempotency-Key" is "return-{uid}"
    And the next 2 calls from "orders" to "payments" are held and let go together
    When I send a POST request to "orders" at "/orders/{order_id}/returns" 2 times at the same moment with JSON:
      """
      {"store": "north-{uid}", "items": [{"sku": "mug-{uid}", "quantity": 2}]}
      """
    Then the 2 calls from "orders" to "payments" went on together
    And every response status is 201
    And I send a GET request to "payments" at "/payments/{payment_id}"
    And the response JSON at "$.refunded_cents" is 2000
