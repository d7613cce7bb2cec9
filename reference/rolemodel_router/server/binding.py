"""Bind the gRPC listener, and say in one line why an address cannot be bound.

grpcio reports every failed bind as ``RuntimeError: Failed to bind to address``, whatever the cause, and
on Linux it sets SO_REUSEPORT by default, so a second router on a busy port would share it in silence
and take half the calls. The listener here turns reuse off, checks the address's form first, and on a
failure asks the operating system (a plain socket bind) for the reason, so that the operator reads
"address already in use" or "cannot assign requested address" instead of a traceback.
"""

from __future__ import annotations

import os
import socket

import grpc
import grpc.aio

from rolemodel_router.http.server import split_address

#: Server options that make a busy port an error instead of a shared one.
NO_PORT_SHARING = (("grpc.so_reuseport", 0),)
#: The workers of ``serve --workers N``: each listens on the same port and the kernel spreads connections.
PORT_SHARING = (("grpc.so_reuseport", 1),)


class ListenError(OSError):
    """The address is malformed or cannot be bound; the message is one line that names the option."""


def check_address(address: str, option: str) -> tuple[str, int]:
    """HOST and PORT of ``address``; raises ListenError naming ``option`` when it is not HOST:PORT."""
    try:
        return split_address(address)
    except ValueError:
        raise ListenError(
            f"{option} {address!r}: expected HOST:PORT, for example 127.0.0.1:50051 (port 0 picks a free one)"
        ) from None


#: Hosts that mean "every interface": a router may listen on them, but a client cannot connect to them.
WILDCARD_TO_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}  # noqa: S104 (compared with, never bound)


def address_to_connect(address: str) -> str:
    """``address`` (HOST:PORT) as a client on this machine reaches it: a wildcard host becomes the loopback."""
    host, port = split_address(address)
    loopback = WILDCARD_TO_LOOPBACK.get(host)
    return f"{loopback}:{port}" if loopback else address


def url_to_connect(url: str) -> str:
    """``url`` (``http://HOST:PORT/...``) with a wildcard host replaced by the loopback, for a user to open."""
    scheme, separator, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    return f"{scheme}{separator}{address_to_connect(netloc)}{slash}{path}" if separator else url


def why_unbindable(host: str, port: int) -> str | None:
    """The operating system's reason why ``host:port`` cannot be bound, in words; None when it can be."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, IndexError):
        return f"unknown host {host!r}"
    try:
        probe = socket.create_server(address[:2], family=family)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        return reason[:1].lower() + reason[1:]
    probe.close()
    return None


def cannot_listen(address: str, option: str, reason: str) -> ListenError:
    hint = "; stop what holds it or pick another port" if "in use" in reason else ""
    return ListenError(f"cannot listen on {address} ({option}): {reason}{hint}")


def add_grpc_port(
    server: grpc.aio.Server,
    address: str,
    credentials: grpc.ServerCredentials | None,
    option: str = "--listen",
    *,
    shared: bool = False,
) -> int:
    """Bind ``address`` on ``server`` and return the port; raises ListenError with the reason.

    ``shared``: the port is held by the sibling workers (the supervisor asked the operating system first).
    """
    host, port = check_address(address, option)
    # Asked first, so that a busy port never reaches grpcio, which would log its own error line.
    reason = why_unbindable(host, port) if port and not shared else None
    if reason is not None:
        raise cannot_listen(address, option, reason)
    try:
        bound = (
            server.add_secure_port(address, credentials)
            if credentials is not None
            else server.add_insecure_port(address)
        )
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise cannot_listen(address, option, why_unbindable(host, port) or "the address could not be bound")
    return bound
