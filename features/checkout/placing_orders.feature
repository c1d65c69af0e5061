@checkout
Feature: Placing orders
  As a customer I want my order confirmed only when the store can fill it,
  so that I am never promised goods the store does not have.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock at 12.50 EUR

  Scenario: A customer orders an item that is in stock
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is confirmed
    And the "North" store has 3 "Blue Mug" left
    And her card is charged 25.00 EUR

  Scenario: An order for more than the store has is rejected and stock is untouched
    When Bob orders 6 "Blue Mug" from the "North" store
    Then his order is rejected because "not enough stock"
    And the "North" store has 5 "Blue Mug" left
    And nothing is charged to his card

  Scenario Outline: Orders the shop cannot fill are rejected
    When Alice orders <quantity> "Blue Mug" from the "North" store
    Then her order is rejected because "<reason>"
    And the "North" store has 5 "Blue Mug" left

    Examples:
      | quantity | reason                    |
      | 0        | quantity must be positive |
      | 500      | not enough stock          |

  Scenario: An order of several items takes each of them from the store and charges the total
    Given the "North" store has 2 "Red Kettle" in stock at 30.00 EUR
    When Alice orders from the "North" store:
      | product    | quantity |
      | Blue Mug   | 2        |
      | Red Kettle | 1        |
    Then her order is confirmed
    And the stores have:
      | store | product    | quantity |
      | North | Blue Mug   | 3        |
      | North | Red Kettle | 1        |
    And her card is charged 55.00 EUR

  Scenario: An order priced in pounds is charged in pounds
    Given the "London" store has 3 "Tea Pot" in stock at 20.00 GBP
    When Alice orders 1 "Tea Pot" from the "London" store
    Then her order is confirmed
    And her card is charged 20.00 GBP
