from crucible.vocabulary.steps import *  # noqa: F401,F403
