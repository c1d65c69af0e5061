Feature: Parcel events travel through the broker

  Scenario: A listener receives a published parcel event
    Given I listen for "parcel.*" events
    When I publish a "parcel.shipped" event with:
      """
      {"parcel": "p-{uid}", "carrier": "Rapid"}
      """
    Then within 10 seconds a "parcel.shipped" event arrives matching:
      """
      {"parcel": "p-{uid}", "carrier": "Rapid"}
      """
