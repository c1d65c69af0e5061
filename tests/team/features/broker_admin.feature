Feature: The broker's management API

  Scenario: The management API lists the broker's virtual host
    When I send a GET request to "broker" at "/api/vhosts"
    Then the response status is 200
    And the response JSON at "$[*].name" contains "/"
