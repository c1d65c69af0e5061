@pact
Feature: What orders relies on payments for
  At checkout the orders service authorises the payment (the order id is its idempotency key),
  captures it once the stock is reserved, voids it when the order fails before capture, and refunds
  it for returns. These are the answers it relies on.

  Background:
    Given "orders" is a consumer of "payments"

  Scenario: A payment is authorised for an order
    Given the provider state "fraud approves small amounts"
    And the consumer sends the header "Idempotency-Key" as "order-1"
    When the consumer sends a POST request to "/payments" with JSON:
      """
      {"order_id": "order-1", "amount_cents": 2500, "currency": "EUR", "customer": "alice",
       "card": {"number": "4111111111111111"}}
      """
    Then the provider answers 201 with:
      | field  | example                              | match    |
      | id     | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID |
      | status | authorised                           | exactly  |

  Scenario: A card the issuer declines is refused with the reason and the issuer's words
    Given the provider state "fraud approves small amounts"
    And the consumer sends the header "Idempotency-Key" as "order-2"
    When the consumer sends a POST request to "/payments" with JSON:
      """
      {"order_id": "order-2", "amount_cents": 2500, "currency": "EUR", "customer": "alice",
       "card": {"number": "4000000000000002"}}
      """
    Then the provider answers 402 with:
      | field          | example          | match     |
      | id             | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID |
      | decline_reason | payment declined | exactly   |
      | decline_detail | card declined    | like this |

  Scenario: An authorised payment is captured
    Given the provider state "an authorised payment exists"
    And the provider state gives "payment_id" like "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
    When the consumer sends a POST request to "/payments/{payment_id}/capture"
    Then the provider answers 200 with:
      | field  | example  | match   |
      | status | captured | exactly |

  Scenario: An authorised payment is voided when the order fails before capture
    Given the provider state "an authorised payment exists"
    And the provider state gives "payment_id" like "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
    When the consumer sends a POST request to "/payments/{payment_id}/void"
    Then the provider answers 200 with:
      | field  | example | match   |
      | status | voided  | exactly |

  Scenario: A captured payment is refunded for a return
    Given the provider state "a captured payment of 25.00 EUR exists"
    And the provider state gives "payment_id" like "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
    And the consumer sends the header "Idempotency-Key" as "return-1"
    When the consumer sends a POST request to "/payments/{payment_id}/refunds" with JSON:
      """
      {"amount_cents": 1000, "reason": "return"}
      """
    Then the provider answers 201 with:
      | field        | example                              | match    |
      | id           | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID |
      | amount_cents | 1000                                 | exactly  |
