@dataflow @security
Feature: Full card numbers never leave the payment
  A customer's full card number is used to take the payment and is kept nowhere else: no
  answer of the shop, no event and no log line shows more than its last 4 digits.

  Scenario: A full card number appears in no answer, event or log
    Given the "North" store has 5 "Blue Mug" in stock
    And the shop's events are being recorded
    When Alice orders 2 "Blue Mug" from the "North" store
    Then within 2 seconds an "order confirmed" event is published for her order
    And her full card number appears in none of the shop's answers
    And her full card number appears in none of the published events
    And her full card number appears in no service's log
