@dataflow
Feature: Order events carry what their consumers need
  Other systems (warehouse, accounting, customer service) learn about orders only from the
  events the shop publishes. Each checkout is announced step by step, every announcement can
  be traced back to the request that caused it, and a confirmation says everything about the
  order, except the card, which it shows only by its last 4 digits.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock at 12.50 EUR
    And the shop's events are being recorded

  Scenario: An order confirmation describes the whole order
    When Alice orders 2 "Blue Mug" from the "North" store
    Then within 2 seconds an "order confirmed" event is published for her order
    And the event describes the order, the customer, the store, each item with its unit price, and the total
    And the event shows her card only by its last 4 digits

  Scenario: Each step of a checkout is announced under the request that placed the order
    When Alice orders 2 "Blue Mug" from the "North" store
    Then within 2 seconds these events are published for her order:
      | event              |
      | order placed       |
      | stock changed      |
      | fraud screened     |
      | payment authorised |
      | payment captured   |
      | order confirmed    |
    And every event published for her order carries the request id it was placed with
