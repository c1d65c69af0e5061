"""Contracts: provider contracts (OpenAPI), their coverage, generated requests, consumer-driven pacts."""
