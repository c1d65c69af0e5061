Feature: The parcels API answers in JSON

  Scenario: A parcel sent to the API comes back as JSON
    When I send a POST request to "api" at "/anything/parcels" with JSON:
      """
      {"parcel": "p-{uid}", "copies": 3}
      """
    Then the response status is 200
    And the response JSON at "$.json" matches:
      """
      {"parcel": "p-{uid}", "copies": 3}
      """
    And the response JSON at "$.method" is "POST"
