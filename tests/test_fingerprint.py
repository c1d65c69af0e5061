"""What a Dockerfile copies from its build context, read by Docker's rules: the files a kept stack's build hash
covers and the files mutants are made from (crucible.stack.fingerprint)."""

from __future__ import annotations

from types import SimpleNamespace

from crucible.stack import fingerprint
from crucible.stack.compose import Build


def sources(text: str, **args: str) -> list[str]:
    return fingerprint.copied_sources(text, args)


def test_plain_forms_still_read():
    text = ('FROM debian:bookworm-slim\nCOPY a.py b.py /app/\nADD ["c d.txt", "/app/"]\n'
            'COPY --from=builder /out /app\nADD https://example.com/x.tgz /tmp/\nCOPY --chown=1:1 e/ \\\n  f/ /srv/\n')
    assert sources(text) == ["a.py", "b.py", "c d.txt", "e/", "f/"]


def test_arg_and_env_are_substituted():
    text = ('FROM debian:bookworm-slim\nARG SRC=app\nENV LIB=lib\nCOPY ${SRC} /app\nCOPY $LIB/ /lib/\n'
            'COPY ${MISSING:-src}/main.py ${LIB:+/opt} \nCOPY ["${SRC}.txt", "/x"]\n')
    assert sources(text) == ["app", "lib/", "src/main.py", "app.txt"]


def test_build_args_win_over_defaults_and_the_global_arg_reaches_a_stage_that_declares_it():
    text = ('ARG SRC=global\nARG OTHER=unused\nFROM debian:bookworm-slim\nARG SRC\nARG KIND=debug\n'
            'COPY ${SRC}/ ${OTHER}x /a/\nCOPY conf/${KIND}.toml /b/\n')
    assert sources(text) == ["global/", "x", "conf/debug.toml"], "a global ARG is not seen before it is declared"
    assert sources(text, SRC="given", KIND="release") == ["given/", "x", "conf/release.toml"]


def test_env_wins_over_arg_and_quotes_follow_the_shell():
    text = ('FROM debian:bookworm-slim\nARG DIR=from-arg\nENV DIR=from-env NAME="two words"\n'
            'COPY $DIR/a \'$DIR/literal\' "$NAME" /dst/\n')
    assert sources(text) == ["from-env/a", "$DIR/literal", "two words"]


def test_the_escape_directive_changes_the_continuation_character():
    text = '# escape=`\nFROM debian:bookworm-slim\nCOPY one.py `\n     two.py C:\\app\\ `\n     /app/\n'
    assert sources(text) == ["one.py", "two.py", "C:\\app\\"]


def test_heredoc_bodies_are_not_instructions_and_inline_files_are_not_sources():
    text = ('FROM debian:bookworm-slim\nCOPY <<EOF /etc/greeting\nCOPY not-a-source.py /x\nEOF\n'
            'RUN <<-SCRIPT bash\n\tADD nor-this /y\n\tSCRIPT\nCOPY <<"ONE" <<TWO real.py /app/\nhello\nONE\nbye\nTWO\n'
            'COPY after.py /app/\n')
    assert sources(text) == ["real.py", "after.py"]


def test_copied_files_take_the_services_build_args(tmp_path):
    for name in ("src/main.py", "alt/main.py", "alt/.cache", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / ".dockerignore").write_text("**/.cache\n")
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\nARG APP=src\nCOPY ${APP} /app\n")
    service = SimpleNamespace(build=Build(context=tmp_path))
    assert fingerprint.copied_files(service) == ["src/main.py"]
    given = SimpleNamespace(build=Build(context=tmp_path, args={"APP": "alt"}))
    assert fingerprint.copied_files(given) == ["alt/main.py"]
    assert fingerprint.build_hash(service) != fingerprint.build_hash(given)
