"""The front door's listener: connections it accepts send small writes at once (TCP_NODELAY).

asyncio sets TCP_NODELAY only on sockets whose ``proto`` is ``IPPROTO_TCP``; a listener made by
``socket.create_server`` has ``proto`` 0, and so have the connections it accepts. Without the option,
Nagle held each streamed chunk that followed the headers until the client's delayed ACK.
"""

from __future__ import annotations

import socket

import pytest

from rolemodel_router.http.server import bind


@pytest.mark.parametrize("reuse_port", [False, True])
def test_accepted_connections_have_nagle_off(reuse_port: bool) -> None:
    with bind("127.0.0.1:0", reuse_port=reuse_port) as listener, socket.create_connection(listener.getsockname()[:2]):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
