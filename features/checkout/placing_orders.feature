@checkout
Feature: Placing orders
  As a customer I want my order confirmed only when the store can fill it,
  so that I am never promised goods the store does not have.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock

  Scenario: A customer orders an item that is in stock
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is confirmed
    And the "North" store has 3 "Blue Mug" left

  Scenario: An order for more than the store has is rejected and stock is untouched
    When Bob orders 6 "Blue Mug" from the "North" store
    Then his order is rejected because "not enough stock"
    And the "North" store has 5 "Blue Mug" left

  Scenario Outline: Orders the shop cannot fill are rejected
    When Alice orders <quantity> "Blue Mug" from the "North" store
    Then her order is rejected because "<reason>"
    And the "North" store has 5 "Blue Mug" left

    Examples:
      | quantity | reason                    |
      | 0        | quantity must be positive |
      | 500      | not enough stock          |
