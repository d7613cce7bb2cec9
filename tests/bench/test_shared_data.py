"""The shared data folder is found beside the main checkout, from a linked worktree too."""

from __future__ import annotations

from pathlib import Path

from bench.shared_data import main_checkout, shared_data_dir


def test_a_linked_worktree_finds_the_data_beside_the_main_checkout(tmp_path: Path) -> None:
    main = tmp_path / "project"
    gitdir = main / ".git" / "worktrees" / "feature"
    gitdir.mkdir(parents=True)
    (gitdir / "commondir").write_text("../..\n")
    worktree = tmp_path / "elsewhere" / "feature"
    worktree.mkdir(parents=True)
    (worktree / ".git").write_text(f"gitdir: {gitdir}\n")
    assert main_checkout(worktree) == main.resolve()
    assert shared_data_dir(worktree) == main.resolve().parent / "shared" / "data"


def test_a_main_checkout_or_a_plain_copy_looks_beside_itself(tmp_path: Path) -> None:
    (tmp_path / "checkout" / ".git").mkdir(parents=True)
    assert shared_data_dir(tmp_path / "checkout") == tmp_path / "shared" / "data"
    (tmp_path / "copy").mkdir()
    assert shared_data_dir(tmp_path / "copy") == tmp_path / "shared" / "data"
