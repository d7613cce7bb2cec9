"""A state URL that cannot work is refused in one line before anything is created."""

from __future__ import annotations

from pathlib import Path

from tests.cli.cli_process import rolemodel

EXIT_BAD_CONFIG = 2


def test_three_slashes_and_a_missing_directory_explain_the_four_slash_form(tmp_path: Path) -> None:
    done = rolemodel("serve", "--state", "sqlite:///proc/nope/x.db", cwd=tmp_path)
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        f"rolemodel serve: --state sqlite:///proc/nope/x.db: no directory {tmp_path}/proc/nope for the database; "
        "a path after sqlite:/// is relative to the current directory, an absolute one needs four slashes "
        "(sqlite:////proc/nope/x.db)"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database\n" * 100)
    done = rolemodel("serve", "--state", "sqlite:///notes.db", cwd=tmp_path)
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == "rolemodel serve: cannot use notes.db as the router's state: file is not a database"


def test_an_unknown_scheme() -> None:
    done = rolemodel("serve", "--state", "postgres://db/rolemodel")
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        "rolemodel serve: unknown state URL 'postgres://db/rolemodel': use memory:, sqlite:///PATH or redis://HOST:PORT/DB"
    )


def test_the_demo_refuses_the_same_way(tmp_path: Path) -> None:
    done = rolemodel("demo", "--once", "--ui", "", "--state", "sqlite:///proc/nope/x.db", cwd=tmp_path)
    assert done.code == 1
    assert done.one_line().startswith("rolemodel demo: --state sqlite:///proc/nope/x.db: no directory ")
