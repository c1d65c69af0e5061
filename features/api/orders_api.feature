@api
Feature: Orders API
  The orders service's HTTP contract, described with the generic steps: an order is confirmed
  or rejected in its answer, can be read back by its id, and takes its items from the store.

  Background:
    Given the variables are:
      | name     | value            |
      | store    | south-{uid}      |
      | sku      | red-kettle-{uid} |
      | customer | carol-{uid}      |
    And a new test card number is remembered as "card"
    And I am authenticated as "sam-{uid}" with the role "staff"
    And I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": 5}
      """
    And I am authenticated as "{customer}" with the role "customer"

  Scenario: A confirmed order is answered with its id and can be read back
    When I send a POST request to "orders" at "/orders" with JSON:
      """
      {"store": "{store}", "items": [{"sku": "{sku}", "quantity": 2, "unit_price_cents": 1250}],
       "card": {"number": "{card}"}}
      """
    Then the response status is 201
    And the response JSON matches:
      """
      {
        "id": "@uuid@",
        "status": "confirmed",
        "customer": "{customer}",
        "store": "{store}",
        "items": [{"sku": "{sku}", "quantity": 2, "unit_price_cents": 1250}],
        "total_cents": 2500,
        "card": {"last4": "@regex(^\\d{4}$)@"},
        "created_at": "@datetime@"
      }
      """
    And the response header "X-Request-ID" is "@regex(^crucible-)@"
    And I remember the response JSON at "$.id" as "order_id"
    And within 5 seconds a GET request to "orders" at "/orders/{order_id}" returns JSON matching:
      """
      {"id": "{order_id}", "status": "confirmed", "items": [{"sku": "{sku}", "quantity": 2}]}
      """
    And within 5 seconds a GET request to "inventory" at "/stock/{store}/{sku}" returns JSON matching:
      """
      {"quantity": 3}
      """

  Scenario: An order for more than the store has is rejected with a reason
    When I send a POST request to "orders" at "/orders" with JSON:
      """
      {"store": "{store}", "items": [{"sku": "{sku}", "quantity": 6, "unit_price_cents": 1250}],
       "card": {"number": "{card}"}}
      """
    Then the response status is 422
    And the response JSON at "$.status" is "rejected"
    And the response JSON at "$.reason" contains "not enough stock"
    And the "inventory" database query "SELECT quantity FROM stock WHERE store = '{store}' AND sku = '{sku}'" returns:
      | quantity |
      | 5        |

  Scenario: An order id the service never issued is not found
    When I send a GET request to "orders" at "/orders/00000000-0000-4000-8000-{uid}0000"
    Then the response status is 404
    And the response JSON at "$.error" is a string

  Scenario: A customer may not order on someone else's behalf
    When I send a POST request to "orders" at "/orders" with JSON:
      """
      {"customer": "mallory-{uid}", "store": "{store}",
       "items": [{"sku": "{sku}", "quantity": 1, "unit_price_cents": 1250}], "card": {"number": "{card}"}}
      """
    Then the response status is 403
    And the response JSON at "$.error" is a string

  Scenario: Another customer's order is answered as if it did not exist
    Given I send a POST request to "orders" at "/orders" with JSON:
      """
      {"store": "{store}", "items": [{"sku": "{sku}", "quantity": 1, "unit_price_cents": 1250}],
       "card": {"number": "{card}"}}
      """
    And I remember the response JSON at "$.id" as "order_id"
    When I am authenticated as "dave-{uid}" with the role "customer"
    Then the "orders" service answers "GET /orders/{order_id}" as if "order_id" did not exist

  Scenario: An order whose quantity is not a number is refused as bad input
    When I send a POST request to "orders" at "/orders" with JSON:
      """
      {"store": "{store}", "items": [{"sku": "{sku}", "quantity": "two", "unit_price_cents": 1250}],
       "card": {"number": "{card}"}}
      """
    Then the response status is 400
    And the response JSON at "$.error" is "items[0].quantity must be an integer"
