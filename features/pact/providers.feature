@pact
Feature: Every provider honours what its consumers rely on
  The pacts the consumers wrote (pacts/) are replayed against each provider's real container, with
  each interaction's provider state set up first (pacts/states/). A provider change that breaks a
  consumer fails here, naming the consumer, the interaction and the field.

  Background:
    Given I am authenticated as "pact-verifier" with the role "service"

  Scenario Outline: The <provider> service honours its consumers' pacts
    When the pacts of "<provider>"'s consumers are verified against it
    Then every interaction its consumers rely on is honoured

    Examples:
      | provider  |
      | inventory |
      | payments  |
      | fraud     |
