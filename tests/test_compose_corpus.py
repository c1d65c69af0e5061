"""A corpus of compose files in the shapes real projects use, and how many of them `crucible check` accepts.

tests/compose-corpus/ holds one folder per project (written for this suite in the shapes public
projects use: WordPress, Django + Celery, ELK, Traefik, Nextcloud, Kafka, overrides, profiles, anchors,
secrets, one-shot migrations ...), with the build contexts, env files and secret files they name.
Every one must be accepted, except the few that need what one engine here cannot give; each of those
is named below with the reason it is refused.
"""

from pathlib import Path

import pytest

from crucible.errors import ComposeError
from crucible.stack import compose

CORPUS = Path(__file__).resolve().parent / "compose-corpus"
# Projects whose stack is more than one file: merged in this order, as `docker compose -f ... -f ...` does.
FILES = {
    "override-dev": ["compose.yaml", "compose.override.yaml"],
    "override-prod": ["compose.yaml", "compose.prod.yaml"],
}
# The only refusals: each needs an engine feature that cannot exist here.
REFUSED = {
    "host-network": "network_mode 'host' is not supported",  # would listen on every interface; runs collide
    "buildkit-secrets": "'build.secrets' is not supported",  # BuildKit build secrets; the classic builder has none
    "swarm-stack": "swarm secrets ('external') are not supported",  # secrets held by a swarm
    "ai-models": "language models need Docker Model Runner",  # Docker Model Runner
}


def projects() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def files_of(name: str) -> list[Path]:
    folder = CORPUS / name
    if name in FILES:
        return [folder / f for f in FILES[name]]
    return [next(p for p in (folder / "compose.yaml", folder / "docker-compose.yml") if p.is_file())]


def verdict(name: str) -> str:
    """'accepted', or the first line of the refusal."""
    try:
        compose.load(files_of(name), env={})
    except ComposeError as exc:
        return str(exc)
    return "accepted"


@pytest.mark.parametrize("name", projects())
def test_each_project_gets_its_expected_verdict(name):
    found = verdict(name)
    if name in REFUSED:
        assert REFUSED[name] in found, found
    else:
        assert found == "accepted"


def test_the_corpus_is_large_and_nearly_all_accepted(capsys):
    names = projects()
    accepted = [n for n in names if verdict(n) == "accepted"]
    with capsys.disabled():  # the number is the point of this test: show it in every run
        print(f"\ncompose corpus: crucible check accepts {len(accepted)} of {len(names)} projects; "
              f"refused: {', '.join(sorted(REFUSED))}")
    assert len(names) >= 30
    assert sorted(set(names) - set(accepted)) == sorted(REFUSED)
