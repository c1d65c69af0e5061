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
