@security
Feature: Customers see only their own business
  A customer sees only her own orders, returns and payments. Asking about anyone else's tells her
  nothing: the shop answers exactly as it does about an order, a payment or a customer that does
  not exist. Store operations are for store staff only.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock

  Scenario: A customer cannot look at someone else's order
    Given Bob has bought 1 "Blue Mug" from the "North" store
    When Alice looks up Bob's order
    Then she is told there is no such order
    And she learns nothing about it: the shop answers as if it did not exist

  Scenario: A customer cannot see someone else's return
    Given Bob has bought 2 "Blue Mug" from the "North" store
    And Bob has returned 1 "Blue Mug" to the "North" store
    When Alice looks up Bob's return
    Then she learns nothing about it: the shop answers as if it did not exist

  Scenario: A customer cannot return what someone else bought
    Given Bob has bought 2 "Blue Mug" from the "North" store
    When Alice tries to return Bob's "Blue Mug" to the "North" store
    Then she learns nothing about it: the shop answers as if it did not exist
    And the "North" store still has 3 "Blue Mug"

  Scenario: A customer cannot see the payment for someone else's order
    Given Bob has bought 1 "Blue Mug" from the "North" store
    When Alice looks up the payment for Bob's order
    Then she learns nothing about it: the shop answers as if it did not exist

  Scenario: A customer cannot ask for someone else's list of orders
    Given Bob has bought 1 "Blue Mug" from the "North" store
    When Alice asks for Bob's list of orders
    Then she learns nothing about it: the shop answers as if it did not exist

  Scenario: A customer's list of orders holds only her own
    Given Alice has bought 1 "Blue Mug" from the "North" store
    And Bob has bought 2 "Blue Mug" from the "North" store
    When Alice lists her orders
    Then she sees only her own orders

  Scenario: A customer cannot change a store's stock
    When Alice tries to change the "North" store's stock of "Blue Mug" to 100
    Then she is refused because only store staff may do that
    And the "North" store still has 5 "Blue Mug"
