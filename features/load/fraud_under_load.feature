@load @fraud
Feature: Fraud screening under load
  The fraud rules hold when many payments with the same cards arrive at the same moment: a card
  used more than three times within ten minutes is declined, however close together the attempts,
  and large orders are held for a review however many arrive at once.

  Scenario: Cards used six times at once are declined from the fourth attempt on
    Given the "North" store has 60 "Blue Mug" in stock
    When 5 customers each place 6 orders for 1 "Blue Mug" from the "North" store at once, each with one card
    Then each customer has 3 orders confirmed and 3 rejected because "fraud declined" ("velocity")
    And the "North" store has 45 "Blue Mug" left

  Scenario: Large orders arriving together are all held for review
    Given the "North" store has 20 "Espresso Machine" in stock at 600.00 EUR
    When 12 customers each order 1 "Espresso Machine" from the "North" store within 30 seconds
    Then every order is held for review because "amount over review threshold"
    And fewer than 1% of the orders fail
