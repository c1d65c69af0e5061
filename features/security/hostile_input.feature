@security
Feature: Hostile input is harmless
  Whatever is typed into any field of any operation — database commands, forged headers, paths
  that climb out of their folder, endless text, hidden control characters, numbers where words
  belong — no service breaks, none shows its inner workings, and nothing it refused is kept.
  Each scenario attaches every request it sent and what became of it.

  Scenario: Orders shrugs off hostile input
    Then every "orders" operation handles hostile input harmlessly

  Scenario: Inventory shrugs off hostile input
    Then every "inventory" operation handles hostile input harmlessly

  Scenario: Payments shrugs off hostile input
    Then every "payments" operation handles hostile input harmlessly

  Scenario: Fraud screening shrugs off hostile input
    Then every "fraud" operation handles hostile input harmlessly
