@pact
Feature: What inventory's availability view relies on in stock events
  Chain-wide availability is built from the stock.changed events inventory publishes: it needs
  the store, the product, the new quantity and the version that orders the changes of one stock row.

  Background:
    Given "availability" consumes messages from "inventory"

  Scenario: A stock change carries the new level of one product in one store
    Given the provider state "a store's stock of a product is set" with:
      | name     | value    |
      | store    | north    |
      | sku      | blue-mug |
      | quantity | 5        |
    When the provider publishes a "stock.changed" message
    Then the consumer receives it with:
      | field         | example                              | match     |
      | id            | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID  |
      | type          | stock.changed                        | exactly   |
      | data.store    | north                                | like this |
      | data.sku      | blue-mug                             | like this |
      | data.quantity | 5                                    | like this |
      | data.version  | 1                                    | like this |
