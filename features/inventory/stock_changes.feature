@inventory
Feature: Stock changes are announced to the whole chain
  Every change to a store's stock is announced, so that the rest of the chain learns of it:
  deliveries, sales, transfers. The chain-wide view of what is available follows within a
  second.

  Background:
    Given the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 5        |
      | South | Blue Mug | 3        |
    And the shop's events are being recorded

  Scenario: A delivery is announced as a stock change
    When the "North" store receives a delivery of 4 "Blue Mug"
    Then within 2 seconds these stock changes are published:
      | store | product  | change | quantity | cause   |
      | North | Blue Mug | +4     | 9        | restock |
    And the "North" store has 9 "Blue Mug"

  Scenario: A sale is announced as a stock change
    When Alice orders 2 "Blue Mug" from the "North" store
    Then within 2 seconds these stock changes are published:
      | store | product  | change | quantity | cause   |
      | North | Blue Mug | -2     | 3        | reserve |

  Scenario: Chain-wide availability follows a sale within a second
    When Alice orders 2 "Blue Mug" from the "North" store
    Then within 1 second the chain has 6 "Blue Mug" available:
      | store | quantity |
      | North | 3        |
      | South | 3        |

  Scenario: A transfer is announced for both stores
    When 3 "Blue Mug" are moved from the "North" store to the "South" store
    Then within 2 seconds these stock changes are published:
      | store | product  | change | quantity | cause    |
      | North | Blue Mug | -3     | 2        | transfer |
      | South | Blue Mug | +3     | 6        | transfer |
