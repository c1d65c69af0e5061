@fraud
Feature: Fraud screening of payments
  Every payment is screened before the card is charged. The fraud check approves everyday
  orders, holds large ones for the fraud team (over 500.00 EUR), and declines very large ones
  (over 2000.00 EUR), cards used too often (a fourth payment within ten minutes), blocked cards
  and cards from blocked banks.

  Background:
    Given the "North" store has 10 "Blue Mug" in stock

  Scenario: An everyday order passes the fraud check
    When Alice orders 2 "Blue Mug" from the "North" store
    Then the fraud check approves her order
    And her order is confirmed

  Scenario Outline: Large orders are screened by their amount
    Given the "North" store has 5 "Espresso Machine" in stock at 650.00 EUR
    When Alice orders <quantity> "Espresso Machine" from the "North" store
    Then the fraud check decides to <decision> her order because "<reason>"

    Examples:
      | quantity | decision | reason                       |
      | 1        | review   | amount over review threshold |
      | 4        | decline  | amount over limit            |

  Scenario: A card used for a fourth payment within minutes is declined
    Given Alice has already bought 1 "Blue Mug" from the "North" store 3 times
    When Alice orders 1 "Blue Mug" from the "North" store
    Then her order is rejected because "fraud declined" ("velocity")
    And the "North" store has 7 "Blue Mug" left

  Scenario: A card on the blocklist is declined
    Given Alice's card is on the blocklist
    When Alice orders 1 "Blue Mug" from the "North" store
    Then her order is rejected because "fraud declined" ("blocked card")
    And the "North" store still has 10 "Blue Mug"

  Scenario: A card from a blocked bank is declined
    Given cards from Alice's bank are on the blocklist
    When Alice orders 1 "Blue Mug" from the "North" store
    Then her order is rejected because "fraud declined" ("blocked bin")
    And the "North" store still has 10 "Blue Mug"

  Scenario: An order of exactly 500.00 EUR passes the fraud check
    Given the "North" store has 1 "Gift Hamper" in stock at 500.00 EUR
    When Alice orders 1 "Gift Hamper" from the "North" store
    Then the fraud check approves her order
    And her order is confirmed

  Scenario: Customers of the same bank are not declined for each other's payments
    Given Alice, Bob, Carol and Dan have cards from the same bank
    And Alice, Bob and Carol have each bought 1 "Blue Mug" from the "North" store
    When Dan orders 1 "Blue Mug" from the "North" store
    Then his order is confirmed
