@fraud
Feature: The fraud team reviews held orders
  An order the fraud check holds keeps its stock and charges nothing until a member of the
  fraud team approves it (it is confirmed and charged) or declines it (it is rejected and its
  stock goes back on the shelf).

  Background:
    Given the "North" store has 2 "Espresso Machine" in stock at 650.00 EUR

  Scenario: A large order waits for the fraud team with its stock kept aside
    When Alice orders 1 "Espresso Machine" from the "North" store
    Then her order is held for review because "amount over review threshold"
    And the "North" store has 1 "Espresso Machine" left
    And nothing is charged to her card

  Scenario: A held order the fraud team approves is confirmed and charged
    Given Alice's order for 1 "Espresso Machine" from the "North" store is held for review
    When the fraud team approves her order
    Then her order is confirmed
    And her card is charged 650.00 EUR
    And the "North" store has 1 "Espresso Machine" left

  Scenario: A held order the fraud team declines is rejected and its stock released
    Given Alice's order for 1 "Espresso Machine" from the "North" store is held for review
    When the fraud team declines her order
    Then her order is rejected because "fraud declined" ("declined by review")
    And the "North" store still has 2 "Espresso Machine"
    And nothing is charged to her card
