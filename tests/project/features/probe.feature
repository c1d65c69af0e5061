Feature: Probe
  Scenario: The stack answers
    Given the stack is up
    When a step takes 0 seconds
    Then the service "app" is running
