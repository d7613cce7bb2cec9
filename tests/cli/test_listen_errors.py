"""A busy, malformed or foreign listen address ends in one line and an exit code, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.cli.cli_process import rolemodel
from tests.router.harness import RouterProcess

EXIT_BAD_CONFIG = 2
EXIT_DEMO_FAILED = 1


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port held by a plain listening socket, as another program would hold it."""
    with socket.create_server(("127.0.0.1", 0)) as held:
        yield held.getsockname()[1]


def test_serve_on_a_busy_port(busy_port: int) -> None:
    done = rolemodel("serve", "--state", "memory:", "--listen", f"127.0.0.1:{busy_port}")
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        f"rolemodel serve: cannot listen on 127.0.0.1:{busy_port} (--listen): address already in use; "
        "stop what holds it or pick another port"
    )


def test_a_second_router_does_not_share_the_first_ones_port() -> None:
    """grpcio would set SO_REUSEPORT and let both serve half the calls each; the router refuses instead."""
    with RouterProcess() as first:
        done = rolemodel("serve", "--state", "memory:", "--listen", first.address)
        assert done.code == EXIT_BAD_CONFIG
        assert "address already in use" in done.one_line()


def test_serve_with_a_malformed_listen_address() -> None:
    done = rolemodel("serve", "--state", "memory:", "--listen", "garbage")
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        "rolemodel serve: --listen 'garbage': expected HOST:PORT, for example 127.0.0.1:50051 (port 0 picks a free one)"
    )


def test_serve_on_an_unknown_host() -> None:
    done = rolemodel("serve", "--state", "memory:", "--listen", "no-such-host.invalid:50051")
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        "rolemodel serve: cannot listen on no-such-host.invalid:50051 (--listen): unknown host 'no-such-host.invalid'"
    )


def test_serve_with_the_front_door_on_a_busy_port(busy_port: int) -> None:
    done = rolemodel("serve", "--state", "memory:", "--listen", "127.0.0.1:0", "--http", f"127.0.0.1:{busy_port}")
    assert done.code == EXIT_BAD_CONFIG
    assert done.one_line() == (
        f"rolemodel serve: cannot listen on 127.0.0.1:{busy_port} (--http): address already in use; "
        "stop what holds it or pick another port"
    )


def test_demo_on_a_busy_port(busy_port: int) -> None:
    done = rolemodel("demo", "--once", "--ui", "", "--listen", f"127.0.0.1:{busy_port}")
    assert done.code == EXIT_DEMO_FAILED
    assert done.one_line() == (
        f"rolemodel demo: cannot listen on 127.0.0.1:{busy_port} (--listen): address already in use; "
        "stop what holds it or pick another port"
    )
