@api
Feature: Stock API
  The inventory service's stock endpoints, described with the generic HTTP, JSON and
  database steps: what a client sends, what it gets back, and what the service stores.

  Background:
    Given the variables are:
      | name  | value          |
      | store | north-{uid}    |
      | sku   | blue-mug-{uid} |

  Scenario: Stock that is set is answered back and stored
    When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": 5}
      """
    Then the response status is 200
    And the response JSON matches:
      """
      {"store": "{store}", "sku": "{sku}", "quantity": 5}
      """
    And the "inventory" database query "SELECT sku, quantity FROM stock WHERE store = '{store}'" returns:
      | sku   | quantity |
      | {sku} | 5        |

  Scenario: Stock of a product the store never had is not found
    When I send a GET request to "inventory" at "/stock/{store}/{sku}"
    Then the response status is 404
    And the response JSON at "$.error" is "stock not found"
    And the "inventory" database query "SELECT quantity FROM stock WHERE store = '{store}'" returns no rows
