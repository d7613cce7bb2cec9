"""TLS, mutual TLS and bearer tokens with role scopes, against a real router process (spec 12)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rolemodel import ClientOptions, RetryPolicy, RouterClient, TlsOptions
from rolemodel.errors import AuthError, ProtocolError, RoleModelError
from rolemodel.v1 import card_pb2, common_pb2
from tests.requests import conversation, new_id, outcome, route
from tests.router.harness import RouterProcess
from tests.security.certs import Pki, make_pki

ADMIN = "admin-token-0123456789abcdef"
CI = "ci-token-fedcba9876543210"
PROVIDER_KEY = "sk-provider-key-that-must-never-leak-42"
ONCE = RetryPolicy(max_attempts=1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "tokens.yaml"
    path.write_text(
        json.dumps({"tokens": [{"name": "admin", "token": ADMIN}, {"name": "ci", "token": CI, "roles": ["chore"]}]})
    )
    return path


@pytest.fixture(scope="module")
def secured(pki: Pki, tokens_file: Path) -> Iterator[RouterProcess]:
    extra = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key), "--tokens-file", str(tokens_file)]
    with RouterProcess(extra=extra, env={"DEEPSEEK_API_KEY": PROVIDER_KEY}, log_level="debug") as router:
        yield router


def client(router: RouterProcess, pki: Pki, token: str | None) -> RouterClient:
    return RouterClient(router.address, ClientOptions(tls=TlsOptions(ca_file=pki.ca), token=token, retry=ONCE))


def test_tls_with_tokens_serves_authorised_calls(secured: RouterProcess, pki: Pki) -> None:
    with client(secured, pki, ADMIN) as admin:
        card = admin.get_router_card()
        assert card_pb2.ROUTER_CAPABILITY_AUTH in card.capabilities
        decision = admin.route(route("chat", conversation(new_id(), [100]), difficulty=0.1))
        assert decision.chosen_endpoint_id == "fx-local"


def test_discovery_and_health_need_no_token(secured: RouterProcess, pki: Pki) -> None:
    with client(secured, pki, None) as anonymous:
        assert anonymous.get_router_card().router_name
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
    with grpc.secure_channel(secured.address, credentials) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("token", [None, "wrong-token-0000000000000000", ADMIN[:-1]])
def test_missing_or_bad_tokens_are_unauthenticated(secured: RouterProcess, pki: Pki, token: str | None) -> None:
    with client(secured, pki, token) as c, pytest.raises(AuthError) as caught:
        c.route(route("chat", conversation(new_id(), [100])))
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.reason is not None and caught.value.reason.value == "UNAUTHENTICATED"


def test_a_token_is_limited_to_its_roles(secured: RouterProcess, pki: Pki) -> None:
    with client(secured, pki, CI) as ci, client(secured, pki, ADMIN) as admin:
        assert ci.route(route("chore", conversation(new_id(), [100]))).chosen_endpoint_id == "fx-local"
        with pytest.raises(AuthError) as caught:
            ci.route(route("chat", conversation(new_id(), [100])))
        assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert caught.value.metadata == {"role": "chat"}
        chat = admin.route(route("chat", conversation(new_id(), [100])))
        with pytest.raises(RoleModelError) as other:  # another principal's decision is not found (RM-AUTH-011)
            ci.report_outcome(outcome(chat.decision_id, chat.chosen_endpoint_id))
        assert other.value.reason is not None and other.value.reason.value == "DECISION_NOT_FOUND"
        assert admin.report_outcome(outcome(chat.decision_id, chat.chosen_endpoint_id)).effects.served_endpoint_id


def test_plaintext_clients_cannot_talk_to_a_tls_router(secured: RouterProcess) -> None:
    with RouterClient(secured.address, ClientOptions(token=ADMIN, retry=ONCE)) as plain, pytest.raises(ProtocolError):
        plain.get_router_card(timeout_s=2)


def test_mutual_tls_requires_a_client_certificate(pki: Pki) -> None:
    extra = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key), "--tls-client-ca", str(pki.ca)]
    with RouterProcess(extra=extra) as router:
        with_cert = TlsOptions(ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
        with RouterClient(router.address, ClientOptions(tls=with_cert, retry=ONCE)) as good:
            assert good.route(route("chore", conversation(new_id(), [100]))).chosen_endpoint_id == "fx-local"
        with (
            RouterClient(router.address, ClientOptions(tls=TlsOptions(ca_file=pki.ca), retry=ONCE)) as bad,
            pytest.raises(ProtocolError),
        ):
            bad.get_router_card(timeout_s=2)


def test_no_secret_appears_in_any_response_or_log_line(secured: RouterProcess, pki: Pki) -> None:
    """Every response the calls above and below produced, and every log line, is free of the configured secrets."""
    seen: list[str] = []
    with client(secured, pki, ADMIN) as admin, client(secured, pki, CI) as ci:
        seen.append(json_format.MessageToJson(admin.get_router_card()))
        d = admin.route(route("chat", conversation(new_id(), [100]), difficulty=0.9))
        seen.append(json_format.MessageToJson(d))
        seen.append(json_format.MessageToJson(admin.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id))))
        calls: list[Callable[[], object]] = [
            lambda: ci.route(route("chat", conversation(new_id(), [100]))),
            lambda: admin.route(route("nope", conversation(new_id(), [100]))),
            lambda: admin.route(
                route(
                    "chat",
                    conversation(new_id(), [100]),
                    locality=common_pb2.LOCALITY_LOCAL,
                    labels={"x": "y"},
                    difficulty=2.0,
                )
            ),
        ]
        for call in calls:
            with pytest.raises(RoleModelError) as caught:
                call()
            seen.append(str(caught.value) + json.dumps(caught.value.metadata) + str(caught.value.field_violations))
    seen.append(secured.logs())
    assert "decision" in seen[-1], "the router logged its decisions"
    text = "\n".join(seen)
    for secret in (ADMIN, CI, PROVIDER_KEY):
        assert secret not in text
