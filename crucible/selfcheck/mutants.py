"""Automatic defects: mutants of a service's Python source, made with cosmic-ray's mutation operators.

cosmic-ray (a well-kept mutation-testing tool) is used as a library: its parso-based operators find
every place an operator applies and make one mutant at a time, keeping the rest of the file as it
was, so each mutant is a one-line patch like a hand-written defect. Its operators cover four of the
usual families (a comparison flipped, a boundary off by one, a constant changed, a condition
negated); the fifth, a call removed, is a small operator of our own on cosmic-ray's Operator
interface. (mutmut 3 writes all the mutants of a function into one trampolined copy that picks one at
run time and calls back into mutmut, so the service's image would need mutmut inside it; mutatest
has not been released since 2022.)

The mutants are sampled deterministically: the candidates are shuffled with the seed, family by
family, and taken from each family in turn, so a sample covers every family and the same seed and
source give the same mutants.
"""

from __future__ import annotations

import difflib
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from crucible.errors import CrucibleError
from crucible.selfcheck.catalogue import Defect, parse
from crucible.stack import fingerprint
from crucible.stack.compose import Project, Service

log = logging.getLogger(__name__)



class MutantError(CrucibleError):
    """Mutants cannot be made: no mutation library, or no Python source where they were asked for."""


def _cosmic_ray():
    """cosmic-ray's mutation machinery (a clear error when it is not installed)."""
    try:
        import parso
        from cosmic_ray.ast import ast_nodes, get_ast
        from cosmic_ray.mutating import MutationVisitor
        from cosmic_ray.operators import boolean_replacer, comparison_operator_replacement, number_replacer
        from cosmic_ray.operators.operator import Example, Operator
    except ImportError as exc:
        raise MutantError(f"Automatic mutants need cosmic-ray ({exc}): pip install 'crucible[mutants]' "
                          f"(or cosmic-ray as constraints.txt pins it).") from None
    return parso, ast_nodes, get_ast, MutationVisitor, boolean_replacer, comparison_operator_replacement, \
        number_replacer, Example, Operator


def _remove_call_operator():
    """The "call removed" operator: a statement that is only a call becomes ``pass``."""
    parso, _, _, _, _, _, _, Example, Operator = _cosmic_ray()

    def is_call(node) -> bool:
        last = node.children[-1] if getattr(node, "children", None) else None
        return node.type in ("atom_expr", "power") and last is not None and last.type == "trailer" \
            and last.children[0].value == "("

    class RemoveCall(Operator):
        """Replaces a statement that is only a call (``release(reservation_id)``) with ``pass``."""

        def mutation_positions(self, node):
            if node.type == "simple_stmt" and is_call(node.children[0]):
                yield node.children[0].start_pos, node.children[0].end_pos

        def mutate(self, node, index):
            call = node.children[0]
            node.children[0] = parso.parse(call.get_first_leaf().prefix + "pass")
            return node

        @classmethod
        def examples(cls):
            return (Example("release(x)\n", "pass\n"),)

    return RemoveCall


def families() -> dict[str, list]:
    """The operator families: name -> cosmic-ray operator classes."""
    _, _, _, _, boolean, comparison, number, _, _ = _cosmic_ray()

    def compare(*pairs: str) -> list:
        return [getattr(comparison, f"ReplaceComparisonOperator_{pair}") for pair in pairs]

    return {
        "comparison flipped": compare("Eq_NotEq", "NotEq_Eq", "Lt_GtE", "GtE_Lt", "Gt_LtE", "LtE_Gt", "Is_IsNot",
                                      "IsNot_Is"),
        "boundary off by one": compare("Lt_LtE", "LtE_Lt", "Gt_GtE", "GtE_Gt"),
        "constant changed": [number.NumberReplacer],
        "condition negated": [boolean.AddNot],
        "call removed": [_remove_call_operator()],
    }


@dataclass(frozen=True)
class Candidate:
    """One place one operator can change one file."""

    path: Path
    family: str
    operator: type
    occurrence: int
    line: int


def sources(project: Project, target: str, root: Path) -> list[Path]:
    """The Python files to mutate: those a service's image copies from its build context, or a file or folder."""
    if target in project.services:
        service = project.services[target]
        if service.build is None:
            raise MutantError(f"The service '{target}' has no build section: there is no source of it to mutate.")
        files = _copied_python(service)
    else:
        path = (root / target).resolve()
        if not path.exists():
            raise MutantError(f"--mutants {target}: neither a service of the stack ({', '.join(project.services)}) "
                              f"nor a file or folder under {root}.")
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    files = [f for f in files if f.suffix == ".py" and "__pycache__" not in f.parts]
    if not files:
        raise MutantError(f"--mutants {target}: no Python source there to mutate.")
    return files


def _copied_python(service: Service) -> list[Path]:
    """The .py files of the build context that the service's Dockerfile copies (all of them if it names none)."""
    context = service.build.context
    return (sorted((context / name).resolve() for name in fingerprint.copied_files(service) if name.endswith(".py"))
            or sorted(context.rglob("*.py")))


def candidates(files: list[Path]) -> list[Candidate]:
    """Every place every operator can change the files, in file and source order."""
    _, ast_nodes, get_ast, _, _, _, _, _, _ = _cosmic_ray()
    found = []
    for path in files:
        tree = get_ast(path.read_text(encoding="utf-8"))
        for family, operators in families().items():
            for operator in operators:
                instance = operator()
                positions = [start for node in ast_nodes(tree) for start, _ in instance.mutation_positions(node)]
                found += [Candidate(path, family, operator, n, start[0]) for n, start in enumerate(positions)]
    return found


def sample(found: list[Candidate], count: int, seed: int) -> list[Candidate]:
    """Up to ``count`` candidates, taken family by family in turn from seeded shuffles (deterministic)."""
    rng = random.Random(seed)
    by_family: dict[str, list[Candidate]] = {}
    for candidate in found:
        by_family.setdefault(candidate.family, []).append(candidate)
    for group in by_family.values():
        rng.shuffle(group)
    chosen: list[Candidate] = []
    while len(chosen) < count and any(by_family.values()):
        for family in list(by_family):
            if by_family[family] and len(chosen) < count:
                chosen.append(by_family[family].pop())
    return chosen


def mutant(candidate: Candidate, root: Path, tags: str | None) -> Defect | None:
    """The candidate as a defect (its patch and a one-line description), or None if it changes nothing or
    does not compile."""
    _, _, _, MutationVisitor, _, _, _, _, _ = _cosmic_ray()
    source = candidate.path.read_text(encoding="utf-8")
    mutated = MutationVisitor.mutate_code(source, candidate.operator(), candidate.occurrence)
    if mutated is None or mutated == source:
        return None
    relative = candidate.path.resolve().relative_to(root.resolve()).as_posix()
    try:
        compile(mutated, relative, "exec")
    except SyntaxError:
        return None
    before, after = source.splitlines(), mutated.splitlines()
    diff = "".join(f"{line}\n" for line in difflib.unified_diff(before, after, f"a/{relative}", f"b/{relative}",
                                                                lineterm=""))
    changed = [(old, new) for old, new in zip(before, after) if old != new] or [("", "")]
    old, new = changed[0]
    name = f"{Path(relative).stem}-{candidate.line}-{candidate.operator.__name__.replace('ReplaceComparisonOperator_', '')}" \
           f"-{candidate.occurrence}"
    description = f"{relative}:{candidate.line}: {old.strip()} -> {new.strip()} ({candidate.family})"
    header = f"Defect: {description}\n" + (f"Tags: {tags}\n" if tags else "") + "\n"
    return parse(header + diff, f"mutant {name}", name, kind="mutant")


def generate(project: Project, target: str, root: Path, count: int, seed: int, tags: str | None) -> list[Defect]:
    """Up to ``count`` mutants of the target's source (a service or a path), sampled with ``seed``."""
    files = sources(project, target, root)
    found = candidates(files)
    log.info("Mutants of %s: %d places in %d file(s) where an operator applies; sampling %d with seed %d",
             target, len(found), len(files), min(count, len(found)), seed)
    defects: list[Defect] = []
    ordered = sample(found, len(found), seed)
    for candidate in ordered:
        if len(defects) >= count:
            break
        made = mutant(candidate, root, tags)
        if made is not None and made.id not in {d.id for d in defects}:
            defects.append(made)
    return defects
