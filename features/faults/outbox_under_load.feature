@faults @load @disruptive
Feature: No event lost when the broker restarts in the middle of a rush
  Every service writes its events to an outbox in the same transaction as the change; a relay
  publishes them once the broker takes them. A broker restart during a rush delays events, but
  every order is still announced, and announced once.

  Scenario: Every order of a rush is announced exactly once although the broker restarts during it
    Given the "North" store has 60 "Blue Mug" in stock
    And the shop's events are being recorded
    And the message broker restarts 1 second into the rush
    When 40 customers order 1 "Blue Mug" each from the "North" store, one after another over 10 seconds
    Then within 30 seconds every order is announced exactly once
    And fewer than 1% of the orders fail
