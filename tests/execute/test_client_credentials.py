"""A subscription endpoint is called with the client's own credential, and nothing else ever sees it (spec 12.4).

``ex-mini`` is the subscription here: its connection names ``authorization`` and
``chatgpt-account-id``, the two headers Codex sends when its user signed in with ChatGPT. The
router runs with debug logs, metrics and the front door, and each test ends by searching every
place the router writes for the secret values: the backend's other models, the log, the metrics
page, the card, the decisions and the events.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import decision_pb2, hints_pb2, router_service_pb2
from rolemodel_router.backends.scripted import CacheRules, Fault, Reply, ScriptedBackend
from tests.execute.catalog import CLAUDE_MODEL, LOCAL_MODEL, MINI_MODEL, write_catalog
from tests.execute.conftest import STALL_TIMEOUT_S
from tests.execute.events import execute_request, run, user
from tests.redis_server import free_port
from tests.router.harness import RouterProcess

D = decision_pb2
TOKEN = "Bearer chatgpt-access-7d1f0c9e2b5a4f38"
ACCOUNT = "acct-5be2c0a1-93f4"
CREDENTIAL = {"authorization": TOKEN, "chatgpt-account-id": ACCOUNT}
SECRETS = (TOKEN.removeprefix("Bearer "), ACCOUNT)


class Subscription:
    def __init__(self, backend: ScriptedBackend, router: RouterProcess, metrics_port: int) -> None:
        self.backend = backend
        self.router = router
        self.metrics_port = metrics_port
        self.client = RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=30.0))

    def everything_written(self) -> str:
        """What the router wrote anywhere but to the subscription endpoint itself."""
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        others = [
            f"{r.headers} {r.body!r}" for model in (LOCAL_MODEL, CLAUDE_MODEL) for r in self.backend.requests_for(model)
        ]
        return "\n".join([self.router.logs(), metrics, str(self.client.get_router_card()), *others])


@pytest.fixture
def subscription(tmp_path: Path) -> Iterator[Subscription]:
    port = free_port()
    with ScriptedBackend() as backend:
        backend.configure(LOCAL_MODEL, cache=CacheRules())
        backend.configure(MINI_MODEL, cache=CacheRules.openai())
        backend.configure(CLAUDE_MODEL, cache=CacheRules.anthropic())
        path = write_catalog(tmp_path, backend.base_url, mini_credential_headers="authorization,chatgpt-account-id")
        extra = ["--execute-stall-timeout", STALL_TIMEOUT_S, "--http", "127.0.0.1:0", "--metrics", f"127.0.0.1:{port}"]
        with RouterProcess("memory:", catalog=path, extra=extra, log_level="debug") as router:
            sub = Subscription(backend, router, port)
            with sub.client:
                yield sub


def _excluded(decision: D.Decision, endpoint_id: str) -> list[D.ExclusionCode.ValueType]:
    (candidate,) = [c for c in decision.candidates if c.endpoint_id == endpoint_id]
    return [e.code for e in candidate.exclusions]


def test_the_subscription_gets_the_clients_headers_and_the_fallback_gets_none(subscription: Subscription) -> None:
    backend = subscription.backend
    backend.script(MINI_MODEL, [Reply(text="On the subscription."), Fault.rate_limited(retry_after=0.1)])
    backend.script(LOCAL_MODEL, [Reply(text="On the local model.")])

    served = run(subscription.client, execute_request([user("Plan it.")], role="x-test.subscription"), 30.0, CREDENTIAL)
    assert served.completed.served_endpoint_id == "ex-mini"
    (call,) = backend.requests_for(MINI_MODEL)
    assert call.headers["authorization"] == TOKEN
    assert call.headers["chatgpt-account-id"] == ACCOUNT

    # The subscription is rate limited: the fallback serves, without the client's credential.
    fallback = run(
        subscription.client, execute_request([user("Plan it again.")], role="x-test.subscription"), 30.0, CREDENTIAL
    )
    assert fallback.completed.served_endpoint_id == "ex-local"
    (local,) = backend.requests_for(LOCAL_MODEL)
    assert "authorization" not in local.headers and "chatgpt-account-id" not in local.headers

    written = subscription.everything_written() + str(served.events) + str(fallback.events)
    for secret in SECRETS:
        assert secret not in written


def test_without_the_credential_the_subscription_is_excluded_with_its_own_code(subscription: Subscription) -> None:
    subscription.backend.script(LOCAL_MODEL, [Reply(text="Local, since no login came with the call.")])
    partial = {"authorization": TOKEN}  # the account header is missing: the credential is incomplete
    result = run(subscription.client, execute_request([user("Plan it.")], role="x-test.subscription"), 30.0, partial)
    assert result.completed.served_endpoint_id == "ex-local"
    assert _excluded(result.decision.decision, "ex-mini") == [D.EXCLUSION_CODE_CLIENT_CREDENTIAL_MISSING]
    assert subscription.backend.requests_for(MINI_MODEL) == []

    pinned = run(subscription.client, execute_request([user("Plan it.")], pin="ex-mini"))
    assert pinned.error is not None
    assert pinned.error.reason == ErrorReason.PINNED_ENDPOINT_INELIGIBLE.value
    assert pinned.error.metadata["exclusions"] == "ex-mini:CLIENT_CREDENTIAL_MISSING"
    for secret in SECRETS:
        assert secret not in subscription.everything_written() + str(result.events)


def test_a_client_that_calls_the_model_itself_is_not_refused_the_subscription(subscription: Subscription) -> None:
    """Route decides only: the client makes the call with whatever login it has."""
    request = router_service_pb2.RouteRequest(
        conversation=execute_request([user("Plan it.")]).conversation, hints=hints_pb2.RoutingHints(role="chat")
    )
    decision = subscription.client.route(request)
    assert _excluded(decision, "ex-mini") == []


def test_the_front_door_forwards_the_login_only_to_the_subscription(subscription: Subscription) -> None:
    backend = subscription.backend
    backend.script(MINI_MODEL, [Reply(text="Through the front door, on the subscription.")])
    backend.script(LOCAL_MODEL, [Reply(text="Through the front door, locally.")])
    body = {"model": "rolemodel/x-test.subscription", "messages": [{"role": "user", "content": "Plan it."}]}
    url = subscription.router.http_url + "/v1/chat/completions"
    with httpx.Client(timeout=30.0) as http:
        first = http.post(url, json=body, headers=CREDENTIAL)
        assert first.status_code == 200, first.text
        assert first.headers["x-rolemodel-endpoint"] == "ex-mini"
        local = http.post(url, json=body, headers={**CREDENTIAL, "x-rolemodel-pin": "ex-local"})
        assert local.status_code == 200, local.text
        missing = http.post(url, json=body, headers={"x-rolemodel-pin": "ex-mini"})
    (call,) = backend.requests_for(MINI_MODEL)
    assert call.headers["authorization"] == TOKEN and call.headers["chatgpt-account-id"] == ACCOUNT
    assert missing.status_code == 400  # FAILED_PRECONDITION, PINNED_ENDPOINT_INELIGIBLE
    assert "CLIENT_CREDENTIAL_MISSING" in missing.text
    written = subscription.everything_written() + first.text + local.text + str(first.headers) + str(local.headers)
    for secret in SECRETS:
        assert secret not in written


def test_the_credential_never_prints_its_values() -> None:
    from rolemodel.credentials import credential_metadata
    from rolemodel_router.execute.credentials import ClientCredential

    credential = ClientCredential.from_metadata([*credential_metadata(CREDENTIAL), ("authorization", "router-token")])
    assert credential.names == {"authorization", "chatgpt-account-id"}
    assert credential.headers_for(["authorization", "chatgpt-account-id"]) == CREDENTIAL
    assert credential.headers_for(["authorization", "x-other"]) is None
    shown = f"{credential} {credential!r} {[credential]}"
    assert all(secret not in shown for secret in SECRETS)
    http = ClientCredential.from_http(CREDENTIAL, ["authorization", "chatgpt-account-id"], "authorization")
    assert http.names == {"chatgpt-account-id"}, "the header that carried the router's token is not forwarded"
