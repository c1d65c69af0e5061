@inventory
Feature: Stock put aside for a while
  Stock can be put aside for an order for a limited time. If the order never completes, the
  stock goes back on sale by itself, within a second after the time runs out.

  Scenario: Stock put aside and never confirmed goes back on sale
    Given the "North" store has 5 "Blue Mug" in stock
    When 2 "Blue Mug" are put aside at the "North" store for 1 second
    Then the "North" store has 3 "Blue Mug" left
    And within 3 seconds the "North" store has 5 "Blue Mug" again

  Scenario: Stock put aside stays aside until its time runs out
    Given the "North" store has 5 "Blue Mug" in stock
    When 2 "Blue Mug" are put aside at the "North" store for 60 seconds
    Then for 2 seconds the "North" store still has 3 "Blue Mug"
