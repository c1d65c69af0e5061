@faults @disruptive
Feature: The shop copes when its systems fail
  Checkout reserves stock, takes the payment (screened by fraud) and confirms; when a system it
  needs is down, slow or out of reach, the order is rejected with a reason, nothing is charged and
  the stock is given back. Events go through an outbox, so a broker outage loses none, and a
  restarted system keeps what it knew.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock

  Scenario: Checkout while the payments system is down rejects the order and gives the stock back
    Given the payments system has crashed
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is rejected because "payments unavailable"
    And the "North" store still has 5 "Blue Mug"

  @timeouts
  Scenario: A fraud check slower than its time limit rejects the order without keeping the customer waiting
    Given the fraud check answers 12 seconds late
    When Alice orders 1 "Blue Mug" from the "North" store
    Then she is answered within 9 seconds
    And her order is rejected because "payments unavailable"
    And nothing is charged to her card
    And the "North" store still has 5 "Blue Mug"

  Scenario: No order is confirmed while the orders system cannot reach the inventory
    Given the orders system cannot reach the inventory system
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is rejected because "inventory unavailable"
    And nothing is charged to her card
    And the "North" store still has 5 "Blue Mug"

  Scenario: Orders resume once the shop's database has restarted
    Given Alice has bought 1 "Blue Mug" from the "North" store
    And the shop's database has restarted
    When Bob orders 1 "Blue Mug" from the "North" store
    Then his order is confirmed
    And Alice's order is still confirmed

  @outbox
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
