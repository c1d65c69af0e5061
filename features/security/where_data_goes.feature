@security @dataflow
Feature: Card numbers and passes stay where they belong
  A customer's full card number is used to take the payment and kept nowhere; a pass (token) is
  shown to the service it is meant for and kept nowhere. After the shop's journeys — in a full run,
  every feature before this one — no service's log, no published event, no answer and no database
  column holds either. The audit and the stack's published ports are attached to the report.

  Scenario: A day of shopping leaves no card number or pass where it does not belong
    Given the "North" store has 5 "Blue Mug" in stock
    And Alice has bought 2 "Blue Mug" from the "North" store
    And Alice has returned 1 "Blue Mug" to the "North" store
    When Bob orders 1 "Blue Mug" from the "North" store
    Then no card number or token appears where it does not belong

  Scenario: The shop can be reached from this machine only
    Then every published port of the stack is on loopback only
