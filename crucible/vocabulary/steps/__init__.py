"""The generic step vocabulary: importing this package registers every generic step with behave."""

from crucible.vocabulary.steps import (contract_steps, database_steps, fault_steps, http_steps,  # noqa: F401
                                      json_steps, load_steps, messaging_steps, pact_steps, security_steps,
                                      stack_steps, variables_steps, waiting_steps)
