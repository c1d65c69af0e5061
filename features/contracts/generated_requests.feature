@contracts @generated
Feature: Every service keeps its documented contract under generated requests
  Besides the exchanges the scenarios make (each one is checked against the answering service's
  OpenAPI document), requests are generated from each document: whatever the document allows a
  caller to send must get an answer the document describes, and never a server error.

  Scenario Outline: The <service> service answers generated requests as its document says
    Given I am authenticated as "qa-{uid}" with the role "staff"
    Then the "<service>" API keeps its contract under 80 generated requests

    Examples:
      | service   |
      | orders    |
      | inventory |
      | payments  |
      | fraud     |
