"""The generic step vocabulary: importing this package registers every generic step with behave."""

from crucible.vocabulary.steps import (database_steps, http_steps, json_steps, messaging_steps,  # noqa: F401
                                      stack_steps, variables_steps, waiting_steps)
