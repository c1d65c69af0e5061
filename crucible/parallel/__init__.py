"""Parallel and sharded runs: a plan of the suite, workers that claim its items, shards of it for CI machines.

``crucible run --workers N`` starts one stack and N behave processes that claim the plan's items
(longest first) from a shared folder; ``crucible run --shard K/N`` runs the K-th of N balanced parts
of the plan; ``crucible merge`` joins the shards' results into one report.
"""
