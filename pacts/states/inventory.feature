Feature: Provider states of inventory
  How inventory's provider verification puts the service into each state its consumers' pacts name.
  Each scenario is one state, named exactly as the pacts name it; the state's parameters are its
  variables ({store}, {sku}, {quantity}); what it remembers goes back into the replayed request.

  Background:
    Given I am authenticated as "pact-{uid}" with the role "staff"

  Scenario: a store has stock of a product
    When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": {quantity}}
      """
    Then the response status is 200

  Scenario: a reservation exists
    When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": 5}
      """
    And I send a POST request to "inventory" at "/reservations" with JSON:
      """
      {"order_id": "order-{uid}", "store": "{store}", "items": [{"sku": "{sku}", "quantity": 1}]}
      """
    Then the response status is 201
    And I remember the response JSON at "$.id" as "reservation_id"

  Scenario: a store's stock of a product is set
    Given I listen for "stock.changed" events
    When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
      """
      {"quantity": {quantity}}
      """
    Then the response status is 200
