@security
Feature: Customers see only their own business
  A customer sees only their own orders, and store operations are for store staff only.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock

  Scenario: A customer cannot look at someone else's order
    Given Bob has bought 1 "Blue Mug" from the "North" store
    When Alice looks up Bob's order
    Then she is told there is no such order

  Scenario: A customer's list of orders holds only her own
    Given Alice has bought 1 "Blue Mug" from the "North" store
    And Bob has bought 2 "Blue Mug" from the "North" store
    When Alice lists her orders
    Then she sees only her own orders

  Scenario: A customer cannot change a store's stock
    When Alice tries to change the "North" store's stock of "Blue Mug" to 100
    Then she is refused because only store staff may do that
    And the "North" store still has 5 "Blue Mug"
