@load
Feature: Inventory in sync across 200 stores
  Stock changes in every store of a 200-store chain at the same moment. The chain-wide
  availability catches up with the true stock of every store within seconds, and every change
  is announced once: none lost, none twice.

  Scenario: A burst of deliveries to 200 stores shows in the chain's availability within seconds
    Given the shop's events are being recorded
    And 200 stores each have 10 "Blue Mug" in stock
    When the 200 stores each receive a delivery of 5 "Blue Mug" at the same moment
    Then within 10 seconds the chain shows the true stock of "Blue Mug" in every store
    And every stock change of "Blue Mug" is published exactly once
