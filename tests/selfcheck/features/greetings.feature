@greetings
Feature: Greetings
  Scenario: A greeting names the person
    When I send a GET request to "greeter" at "/greetings/Ann"
    Then the response status is 200
    And the response JSON at "$.greeting" is "Hello, Ann!"

  Scenario: A name longer than twenty letters is refused
    When I send a GET request to "greeter" at "/greetings/Maximilianaugustinusxx"
    Then the response status is 400
