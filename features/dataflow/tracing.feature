@dataflow
Feature: One order can be followed through every system
  Every request carries a request id that each system passes on and writes into its log, so
  that one order can be followed from the shop through stock, payment and fraud screening.

  Scenario: The request id of an order reaches the log of every system it passed through
    Given the "North" store has 5 "Blue Mug" in stock
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is confirmed
    And within 2 seconds the orders, inventory, payments and fraud services each log her order under its request id
