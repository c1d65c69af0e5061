@resilience
Feature: The shop survives outages
  Events go through an outbox: when the message broker is down the shop keeps selling, and
  every event of that time is published once the broker is back. A restarted system keeps
  what it knew.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock

  Scenario: Orders placed while the message broker is down are announced once it is back
    Given the shop's events are being recorded
    And the message broker is down
    And Alice has bought 2 "Blue Mug" from the "North" store
    When the message broker comes back
    Then within 10 seconds these events are published for her order:
      | event              |
      | order placed       |
      | stock changed      |
      | fraud screened     |
      | payment authorised |
      | payment captured   |
      | order confirmed    |

  Scenario: An order is still there after the orders system restarts
    Given Alice has bought 2 "Blue Mug" from the "North" store
    When the orders service restarts
    Then her order is still confirmed
