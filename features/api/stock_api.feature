@api
Feature: Stock API
  The inventory service's stock endpoints, described with the generic HTTP, JSON and
  database steps: what a client sends, what it gets back, what the service stores, and who
  may do it.

  Background:
    Given the variables are:
      | name  | value          |
      | store | north-{uid}    |
      | sku   | blue-mug-{uid} |

  Scenario: Stock that is set is answered back and stored
    Given I am authenticated as "sam-{uid}" with the role "staff"
    When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": 5}
      """
    Then the response status is 200
    And the response JSON matches:
      """
      {"store": "{store}", "sku": "{sku}", "quantity": 5, "version": 1}
      """
    And the "inventory" database query "SELECT sku, quantity FROM stock WHERE store = '{store}'" returns:
      | sku   | quantity |
      | {sku} | 5        |

  Scenario: Stock of a product the store never had is not found
    Given I am authenticated as "sam-{uid}" with the role "staff"
    When I send a GET request to "inventory" at "/stock/{store}/{sku}"
    Then the response status is 404
    And the response JSON at "$.error" is "stock not found"
    And the "inventory" database query "SELECT quantity FROM stock WHERE store = '{store}'" returns no rows

  Scenario: Stock cannot be read without a token
    When I send a GET request to "inventory" at "/stock/{store}/{sku}"
    Then the response status is 401
    And the response header "WWW-Authenticate" contains "Bearer"
    And the response JSON at "$.error" is "missing bearer token"

  Scenario: A customer may not set stock
    Given I am authenticated as "carol-{uid}" with the role "customer"
    When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": 5}
      """
    Then the response status is 403
    And the response JSON matches:
      """
      {"role": "customer", "allowed_roles": "@array@"}
      """
    And the "inventory" database query "SELECT quantity FROM stock WHERE store = '{store}'" returns no rows
