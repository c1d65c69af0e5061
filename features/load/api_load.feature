@load @api
Feature: Stock lookups under load
  Shop pages and store staff ask for a store's stock all the time. Written in the generic
  vocabulary, as a team would for any service of its own stack.

  Scenario: Twenty clients asking for a store's stock at once are answered quickly
    Given I am authenticated as "sam-{uid}" with the role "staff"
    And I send a PUT request to "inventory" at "/stock/north-{uid}/mug-{uid}" with JSON:
      """
      {"quantity": 5}
      """
    When 20 clients send GET requests to "inventory" at "/stock/north-{uid}/mug-{uid}" for 4 seconds
    Then the 99th percentile response time is under 1500 ms
    And fewer than 1% of the requests fail
    And at least 20 requests per second are answered
