"""``crucible self-check``: run the suite against deliberately broken versions of the stack, defect by defect.

A defect is a patch file (a unified diff, as ``git diff`` writes it) with a one-line description of
what a user would notice; it is applied to a temporary copy of the build contexts it touches, the
images of those services are built (with the layer cache) under a tag of their own, and the suite (or
the tags the defect names) runs against a stack of those images. The kill matrix says, defect by
defect, which scenarios failed and with what message; the unbroken stack runs first and last, and any
failure there is a false alarm. ``--mutants`` makes the defects automatically (cosmic-ray's mutation
operators) from a service's source.
"""
