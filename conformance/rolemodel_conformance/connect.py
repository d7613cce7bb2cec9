"""Reaching the router: the channel, credentials, and waiting until its health check says SERVING.

A router that cannot be reached gets no verdict at all (exit 2), never a
report that looks like a pass: the A2A TCK once reported 100% for a server it
could not reach.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

#: Channel limits well above any router's request limit, so the router (not the client) decides about size.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class HarnessError(Exception):
    """The suite cannot produce verdicts: bad options, unreachable router, unusable card. Exit 2."""


@dataclass(frozen=True)
class TransportOptions:
    target: str
    tls: bool = False
    ca_file: Path | None = None
    token_file: Path | None = None
    #: A token the router limits to the role ``chat``, for RM-AUTH-002.
    scoped_token_file: Path | None = None


def is_loopback(target: str) -> bool:
    host = target.rsplit(":", 1)[0].strip("[]")
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(options: TransportOptions, path: Path | None) -> str | None:
    """A bearer token from ``path``, refused over plaintext to another host (RM-SEC-002 binds the suite as a client)."""
    if path is None:
        return None
    if not options.tls and not is_loopback(options.target):
        raise HarnessError(
            f"refusing to send a bearer token to {options.target} without TLS; add --tls (and --ca-file) "
            "or run against a loopback address"
        )
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise HarnessError(f"cannot read the token file: {error}") from None
    if not token:
        raise HarnessError(f"the token file {path} is empty")
    return token


def open_channel(options: TransportOptions) -> grpc.Channel:
    channel_options = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ]
    if not options.tls:
        return grpc.insecure_channel(options.target, options=channel_options)
    roots = None
    if options.ca_file is not None:
        try:
            roots = options.ca_file.read_bytes()
        except OSError as error:
            raise HarnessError(f"cannot read the CA file: {error}") from None
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    return grpc.secure_channel(options.target, credentials, options=channel_options)


def wait_until_serving(channel: grpc.Channel, target: str, timeout_s: float) -> None:
    """Poll grpc.health.v1 until the empty service name reports SERVING; raises HarnessError on timeout."""
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HarnessError(
                f"the router at {target} did not report SERVING on grpc.health.v1 within {timeout_s:g} s "
                f"(last: {last}). Is it running, on this address, with the health service? No verdict was made."
            )
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=min(2.0, remaining))
            if response.status == health_pb2.HealthCheckResponse.SERVING:
                return
            last = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
            details = error.details() if isinstance(error, grpc.Call) else str(error)
            last = f"{code.name}: {details}"
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
