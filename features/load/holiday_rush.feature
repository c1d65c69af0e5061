@load
Feature: The holiday rush
  Many customers order the same scarce product from several stores at the same moment. The shop
  never sells what it does not have, answers every order quickly, charges exactly what it
  confirms, and its stock and the stock changes it announces add up.

  Background:
    Given the stores have:
      | store | product  | quantity |
      | North | Blue Mug | 8        |
      | South | Blue Mug | 8        |
      | East  | Blue Mug | 8        |

  Scenario: Customers rushing for scarce stock are all answered and nothing is oversold
    When 45 customers each order 1 "Blue Mug" from one of the "North", "South" and "East" stores within 30 seconds
    Then no store sells more "Blue Mug" than it had
    And every order ends confirmed or rejected with a reason
    And 95% of the orders are answered within 3000 ms
    And fewer than 1% of the orders fail

  @oversell
  Scenario: After the rush the money and the stock balance with the confirmed orders
    Given the shop's events are being recorded
    When 45 customers each order 1 "Blue Mug" from one of the "North", "South" and "East" stores within 30 seconds
    Then the cards are charged exactly the confirmed orders' totals
    And within 10 seconds the stock of "Blue Mug" and its published changes balance with the orders
