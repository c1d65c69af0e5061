"""Crucible's generic vocabulary: HTTP, JSON, variables, waiting, messages, SQL (docs/steps.md)."""

from crucible.vocabulary.steps import *  # noqa: F401,F403
