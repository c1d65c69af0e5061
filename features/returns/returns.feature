@returns
Feature: Returns
  A customer can bring back what they bought, to any store. The card is refunded exactly once
  for what comes back, never for more than was bought, and the items go back on the shelf of
  the store that received them.

  Background:
    Given the stores have:
      | store | product    | quantity | price     |
      | North | Blue Mug   | 5        | 12.50 EUR |
      | North | Red Kettle | 2        | 30.00 EUR |
      | South | Blue Mug   | 1        | 12.50 EUR |

  Scenario: Returning a whole order refunds it exactly once
    Given Alice has bought 2 "Blue Mug" from the "North" store
    When Alice returns 2 "Blue Mug" to the "North" store
    Then her return is accepted with a refund of 25.00 EUR
    And her order is returned
    And her card is refunded 25.00 EUR exactly once
    And the "North" store has 5 "Blue Mug"

  Scenario: Returning part of an order refunds just that part
    Given Alice has bought from the "North" store:
      | product    | quantity |
      | Blue Mug   | 2        |
      | Red Kettle | 1        |
    When Alice returns to the "North" store:
      | product    | quantity |
      | Blue Mug   | 1        |
      | Red Kettle | 1        |
    Then her return is accepted with a refund of 42.50 EUR
    And her order is partially returned
    And her card is refunded 42.50 EUR exactly once

  Scenario: An item that was already returned cannot be refunded again
    Given Alice has bought from the "North" store:
      | product    | quantity |
      | Blue Mug   | 1        |
      | Red Kettle | 1        |
    And she has returned 1 "Blue Mug" to the "North" store
    When she returns 1 "Blue Mug" to the "North" store
    Then her return is refused because "already returned"
    And her card is refunded 12.50 EUR exactly once

  Scenario: Returned items go back to the store that received them
    Given Alice has bought 2 "Blue Mug" from the "North" store
    When Alice returns 2 "Blue Mug" to the "South" store
    Then her return is accepted with a refund of 25.00 EUR
    And the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 3        |
      | South | Blue Mug | 3        |

  Scenario: A return that reaches the shop twice is refunded once
    Given Alice has bought 2 "Blue Mug" from the "North" store
    When Alice's return of 2 "Blue Mug" to the "North" store reaches the shop twice
    Then her return is accepted with a refund of 25.00 EUR
    And her card is refunded 25.00 EUR exactly once
    And the "North" store has 5 "Blue Mug"

  Scenario: Items returned to a store whose name has a slash go back on its shelf
    Given the "Berlin/Mitte" store has 1 "Blue Mug" in stock
    And Alice has bought 2 "Blue Mug" from the "North" store
    When Alice returns 2 "Blue Mug" to the "Berlin/Mitte" store
    Then her return is accepted with a refund of 25.00 EUR
    And her card is refunded 25.00 EUR exactly once
    And the "Berlin/Mitte" store has 3 "Blue Mug"

  @disruptive
  Scenario: A return sent twice at the same moment is refunded once
    Given Alice has bought 2 "Blue Mug" from the "North" store
    When Alice's return of 2 "Blue Mug" to the "North" store reaches the shop twice at the same moment
    Then her return is accepted with a refund of 25.00 EUR
    And her card is refunded 25.00 EUR exactly once
    And the "North" store has 5 "Blue Mug"
