@pact
Feature: What orders relies on inventory for
  At checkout the orders service reserves the stock of an order, confirms the reservation once the
  payment is captured, and releases it when the order cannot be completed. These are the answers it
  relies on; inventory's verification replays them against the real service.

  Background:
    Given "orders" is a consumer of "inventory"

  Scenario: Stock the store has is reserved for an order
    Given the provider state "a store has stock of a product" with:
      | name     | value    |
      | store    | north    |
      | sku      | blue-mug |
      | quantity | 5        |
    When the consumer sends a POST request to "/reservations" with JSON:
      """
      {"order_id": "order-1", "store": "north", "ttl_seconds": 900, "items": [{"sku": "blue-mug", "quantity": 2}]}
      """
    Then the provider answers 201 with:
      | field  | example                              | match    |
      | id     | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID |
      | status | reserved                             | exactly  |

  Scenario: A reservation for more than the store has is refused with what is available
    Given the provider state "a store has stock of a product" with:
      | name     | value    |
      | store    | north    |
      | sku      | blue-mug |
      | quantity | 5        |
    When the consumer sends a POST request to "/reservations" with JSON:
      """
      {"order_id": "order-2", "store": "north", "ttl_seconds": 900, "items": [{"sku": "blue-mug", "quantity": 6}]}
      """
    Then the provider answers 409 with:
      | field     | example          | match     |
      | reason    | not enough stock | exactly   |
      | sku       | blue-mug         | like this |
      | requested | 6                | like this |
      | available | 5                | like this |

  Scenario: A reservation is confirmed once the order is paid
    Given the provider state "a reservation exists" with:
      | name  | value    |
      | store | north    |
      | sku   | blue-mug |
    And the provider state gives "reservation_id" like "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
    When the consumer sends a POST request to "/reservations/{reservation_id}/confirm"
    Then the provider answers 200 with:
      | field  | example   | match   |
      | status | confirmed | exactly |

  Scenario: A reservation is released when the order cannot be completed
    Given the provider state "a reservation exists" with:
      | name  | value    |
      | store | north    |
      | sku   | blue-mug |
    And the provider state gives "reservation_id" like "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
    When the consumer sends a POST request to "/reservations/{reservation_id}/release"
    Then the provider answers 200 with:
      | field  | example  | match   |
      | status | released | exactly |
