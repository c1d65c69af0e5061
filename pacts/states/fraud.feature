Feature: Provider states of fraud
  How fraud's provider verification puts the service into each state its consumers' pacts name.

  Background:
    Given I am authenticated as "pact-{uid}" with the role "staff"

  Scenario: fraud approves small amounts
    When I send a GET request to "fraud" at "/rules"
    Then the response JSON at "$.review_over_cents" is 50000
