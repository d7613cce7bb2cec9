"""Every help text is complete: a version, a line for every option, and the defaults shown."""

from __future__ import annotations

from rolemodel import __version__
from tests.cli.cli_process import rolemodel


def test_version_names_the_release_and_the_protocol() -> None:
    done = rolemodel("--version")
    assert done.code == 0
    assert done.stdout.strip() == f"rolemodel {__version__} (protocol rolemodel.v1, versions 1.0)"
