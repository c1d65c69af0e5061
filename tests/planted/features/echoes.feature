# Every scenario here fails on purpose, quoting what the services echoed or logged: a credential in
# each form it takes on the wire. None of them may reach the results, the report or the console.
Feature: Services that echo their callers' credentials

  Scenario: A failed comparison quotes a body that echoes the basic credentials
    When I send a GET request to "api" at "/headers"
    Then the response JSON at "$.headers" matches:
      """
      {"Authorization": "a value it never has"}
      """

  Scenario: A step names the password, URL-encoded
    When I send a GET request to "api" at "/basic-auth/parcels/Pl%40nted-pw%2F42%22q"
    Then the response status is 418

  Scenario: A docstring carries a remembered credential
    Given I send a GET request to "mirror" at "/headers"
    And I remember the response JSON at "$.headers.X-Api-Key" as "key"
    When I send a POST request to "mirror" at "/anything" with JSON:
      """
      {"forwarded": "{key}", "password": "Pl@nted-pw/42\"q"}
      """
    Then the response JSON at "$.json" matches:
      """
      {"forwarded": "something else"}
      """

  Scenario: A service logs its token and its database password
    # httpbin answers /delay/2 after two seconds: the service has logged its line (every half second) meanwhile
    When I send a GET request to "chatty" at "/delay/2"
    Then the response status is 500
