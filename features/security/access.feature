@security
Feature: Who may do what
  Each service's contract lists, for every operation, the roles that may use it: customers, store
  staff, administrators, and the platform's own services. Each role gets exactly what its contract
  names and no more, and a missing, expired, forged, unsigned or altered pass gets nothing anywhere.
  The whole table of who was let in where is attached to each scenario.

  Scenario: Orders lets in only the roles its contract names
    Then every "orders" operation admits only the roles its contract names

  Scenario: Inventory lets in only the roles its contract names
    Then every "inventory" operation admits only the roles its contract names

  Scenario: Payments lets in only the roles its contract names
    Then every "payments" operation admits only the roles its contract names

  Scenario: Fraud screening lets in only the roles its contract names
    Then every "fraud" operation admits only the roles its contract names

  Scenario: Customers reach nothing in the stock but what they may read
    Then every "inventory" operation refuses the role "customer" unless its contract names it
