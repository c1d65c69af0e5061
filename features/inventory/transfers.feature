@inventory
Feature: Moving stock between stores
  Store staff move stock from one store to another in one step: it leaves the sending store
  and arrives in the receiving one, or nothing moves at all.

  Background:
    Given the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 5        |
      | South | Blue Mug | 1        |

  Scenario: Stock moved between stores arrives in the receiving store
    When 3 "Blue Mug" are moved from the "North" store to the "South" store
    Then the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 2        |
      | South | Blue Mug | 4        |

  Scenario: A store cannot send more than it has
    When 6 "Blue Mug" are moved from the "North" store to the "South" store
    Then the transfer is refused because "not enough stock"
    And the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 5        |
      | South | Blue Mug | 1        |

  Scenario: Stock moved to a store that never had the product arrives there
    When 2 "Blue Mug" are moved from the "North" store to the "West" store
    Then the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 3        |
      | West  | Blue Mug | 2        |
