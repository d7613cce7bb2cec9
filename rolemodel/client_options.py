"""Options shared by the sync and asyncio clients: channel security, metadata, retries."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from rolemodel.errors import RoleModelError
from rolemodel.v1 import outcome_pb2
from rolemodel.versions import CURRENT_VERSION, METADATA_KEY


@dataclass(frozen=True)
class TlsOptions:
    """Server verification and, for mutual TLS, the client's own certificate (PEM files)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name_override: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: Path | None) -> bytes | None:
            return path.read_bytes() if path is not None else None

        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("mutual TLS needs both cert_file and key_file")
        return grpc.ssl_channel_credentials(
            root_certificates=read(self.ca_file),
            private_key=read(self.key_file),
            certificate_chain=read(self.cert_file),
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for errors the registry marks retryable, with jittered exponential backoff."""

    max_attempts: int = 3
    initial_backoff_s: float = 0.05
    max_backoff_s: float = 1.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security

    def should_retry(self, error: RoleModelError, attempt: int) -> bool:
        return error.retryable and attempt < self.max_attempts


@dataclass(frozen=True)
class ClientOptions:
    """How a client reaches a router.

    ``timeout_s`` is the default deadline of each call; a call may override
    it. ``token`` is sent as ``authorization: Bearer <token>`` and should only
    be used over TLS.
    """

    version: str = CURRENT_VERSION
    timeout_s: float = 10.0
    tls: TlsOptions | None = None
    token: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    channel_options: tuple[tuple[str, int | str], ...] = (
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ("grpc.max_send_message_length", 64 * 1024 * 1024),
    )

    def metadata(self, with_version: bool = True) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        if with_version:
            pairs.append((METADATA_KEY, self.version))
        if self.token:
            pairs.append(("authorization", f"Bearer {self.token}"))
        return tuple(pairs)


def with_idempotency_key(outcome: outcome_pb2.Outcome) -> outcome_pb2.Outcome:
    """A copy of ``outcome`` with a fresh key when it has none, so that retries reuse one key."""
    if outcome.idempotency_key:
        return outcome
    keyed = outcome_pb2.Outcome()
    keyed.CopyFrom(outcome)
    keyed.idempotency_key = uuid.uuid4().hex
    return keyed
