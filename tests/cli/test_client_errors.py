"""`rolemodel route`, `card` and `check-catalog` mistakes: one line that says what to do."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.cli_process import rolemodel
from tests.router.harness import EXAMPLE, RouterProcess

EXIT_REFUSED = 1
EXIT_BAD_CONFIG = 2


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def test_route_with_no_router_suggests_starting_one() -> None:
    target = f"127.0.0.1:{_free_port()}"
    done = rolemodel("route", "--target", target, "--role", "chore", "--text", "run the linters")
    assert done.code == EXIT_REFUSED
    assert done.one_line() == (
        f"rolemodel route: no router answers at {target} (connection refused); start one with 'rolemodel serve' "
        "(or 'rolemodel demo'), or point --target at yours"
    )


def test_card_with_a_host_that_does_not_resolve() -> None:
    done = rolemodel("card", "--target", "no-such-host.invalid:50051")
    assert done.code == EXIT_REFUSED
    assert done.one_line().startswith(
        "rolemodel card: no router answers at no-such-host.invalid:50051 (the host name does not resolve); "
    )


def test_a_field_violation_is_printed_once() -> None:
    with RouterProcess(catalog=EXAMPLE) as router:
        done = rolemodel("route", "--target", router.address, "--role", "chore", "--difficulty", "2")
    assert done.code == EXIT_REFUSED
    assert done.one_line() == (
        "refused: REQUEST_INVALID: the request has 1 field violation(s): hints.difficulty: must be a number in [0, 1]"
    )


def test_a_misspelt_catalog_field_gets_the_nearest_real_one(tmp_path: Path) -> None:
    typo = tmp_path / "catalog.yaml"
    typo.write_text(EXAMPLE.read_text().replace("\nname:", "\nnmae:", 1))
    done = rolemodel("check-catalog", str(typo))
    assert done.code == EXIT_BAD_CONFIG
    assert "(top level): unknown field 'nmae': did you mean 'name'?" in done.stderr
    assert "spec/schemas" not in done.stderr
