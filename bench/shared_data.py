"""Where the shared data folder is: ``shared/data`` beside the repository's main checkout.

Public data sets (traces, routing benchmarks) are never copied into the project; each keeps its own
licence in a folder next to the checkout. A linked git worktree lives somewhere else, so the folder is
looked for beside the main checkout, which the worktree's ``.git`` file leads to; a copy of the
repository that is not a linked worktree looks beside itself.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main_checkout(root: Path = ROOT) -> Path:
    """The main working tree of the repository at ``root`` (``root`` itself unless it is a linked worktree).

    A linked worktree's ``.git`` is a file, ``gitdir: <main>/.git/worktrees/<name>``, and that directory's
    ``commondir`` names the main ``.git`` relative to it. Anything unexpected leaves ``root`` as it is.
    """
    marker = root / ".git"
    if not marker.is_file():
        return root
    text = marker.read_text()
    if not text.startswith("gitdir:"):
        return root
    gitdir = root / text.removeprefix("gitdir:").strip()  # an absolute path replaces root
    common = gitdir / "commondir"
    if not common.is_file():
        return root
    return (gitdir / common.read_text().strip()).resolve().parent


def shared_data_dir(root: Path = ROOT) -> Path:
    """``shared/data`` beside the main checkout of the repository at ``root``."""
    return main_checkout(root).parent / "shared" / "data"
