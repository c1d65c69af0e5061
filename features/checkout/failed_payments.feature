@checkout
Feature: Checkout that cannot be paid for
  An order is confirmed only once its payment is authorised and captured. When the bank or the
  fraud check says no, the order is rejected and everything it took is given back: the stock
  returns to the shelf and nothing stays charged or authorised on the card.

  Background:
    Given the "North" store has 5 "Blue Mug" in stock

  Scenario Outline: A payment the bank declines gives the stock back
    Given Alice's card <problem>
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is rejected because "payment declined" ("<detail>")
    And the "North" store still has 5 "Blue Mug"
    And nothing is charged to her card

    Examples:
      | problem                  | detail             |
      | is declined by the bank  | card declined      |
      | has insufficient funds   | insufficient funds |

  Scenario: A payment the fraud check declines gives the stock back and charges nothing
    Given the "North" store has 3 "Espresso Machine" in stock at 750.00 EUR
    When Alice orders 3 "Espresso Machine" from the "North" store
    Then her order is rejected because "fraud declined" ("amount over limit")
    And the "North" store still has 3 "Espresso Machine"
    And nothing is charged to her card
