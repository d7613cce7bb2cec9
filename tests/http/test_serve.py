"""``rolemodel serve --http``: one process, two listeners, one drain, the same TLS and tokens."""

from __future__ import annotations

import json
import signal
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.backends.scripted import Reply, ScriptedBackend
from tests.http.catalog import LOCAL_MODEL, write_catalog
from tests.observe.test_metrics_and_traces import scrape
from tests.redis_server import free_port
from tests.router.harness import RouterProcess
from tests.security.certs import Pki, make_pki

ADMIN = "admin-token-0123456789abcdef"
CHORES = "chores-token-0123456789abcdef"
#: About two seconds of streaming: long enough to still be in flight when SIGTERM arrives.
SLOW = Reply(text="word " * 100, chunk_chars=5, delta_delay=0.02)


def _grpc_execute(router: RouterProcess) -> router_service_pb2.ExecuteRequest:
    message = conversation_pb2.Message(
        role=conversation_pb2.MESSAGE_ROLE_USER,
        parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text="a long story, please"))],
    )
    hints = hints_pb2.RoutingHints(role="chat")
    hints.endpoint_choice.pinned_endpoint_id = "local"
    return router_service_pb2.ExecuteRequest(
        conversation=conversation_pb2.ConversationRef(
            conversation_id=f"grpc-{uuid.uuid4().hex}", messages=[conversation_pb2.MessageRef(message=message)]
        ),
        hints=hints,
    )


def test_sigterm_drains_both_listeners(backend: ScriptedBackend, tmp_path: Path) -> None:
    backend.script(LOCAL_MODEL, [SLOW, SLOW])
    router = RouterProcess(
        "memory:", catalog=write_catalog(tmp_path, backend.base_url), extra=["--http", "127.0.0.1:0"]
    ).start()
    started = threading.Barrier(3, timeout=10)
    results: dict[str, object] = {}

    def over_http() -> None:
        body = {"model": "rolemodel/chat@local", "stream": True, "messages": [{"role": "user", "content": "a story"}]}
        lines: list[str] = []
        with httpx.stream("POST", router.http_url + "/v1/chat/completions", json=body, timeout=20) as response:
            for line in response.iter_lines():
                if not lines:
                    started.wait()
                lines.append(line)
        results["http"] = lines

    def over_grpc() -> None:
        kinds: list[str] = []
        with RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as client:
            for event in client.execute(_grpc_execute(router), timeout_s=20):
                if event.HasField("delta") and "delta" not in kinds:
                    started.wait()
                kinds.append(str(event.WhichOneof("event")))
        results["grpc"] = kinds

    workers = [threading.Thread(target=over_http), threading.Thread(target=over_grpc)]
    for worker in workers:
        worker.start()
    started.wait()
    assert router.process is not None
    router.process.send_signal(signal.SIGTERM)
    refused = False
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and not refused:
        try:
            httpx.get(router.http_url + "/v1/models", timeout=1)
        except httpx.TransportError:
            refused = True
        time.sleep(0.05)
    for worker in workers:
        worker.join(timeout=20)
    assert router.stop(timeout=20) == 0
    assert refused, "the front door still accepted connections after SIGTERM"
    http_lines = results["http"]
    assert isinstance(http_lines, list) and http_lines[-2:] == ["data: [DONE]", ""]
    assert "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or "" for line in http_lines
                   if line.startswith("data: {") and json.loads(line[6:])["choices"]) == "word " * 100  # fmt: skip
    grpc_kinds = results["grpc"]
    assert isinstance(grpc_kinds, list) and grpc_kinds[0] == "started" and grpc_kinds[-1] == "completed"


def test_the_option_comes_from_a_config_file_too(backend: ScriptedBackend, tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("http: 127.0.0.1:0\n")
    catalog = write_catalog(tmp_path, backend.base_url)
    with RouterProcess("memory:", catalog=catalog, extra=["--config", str(config)], expect_http=True) as router:
        listing = httpx.get(router.http_url + "/v1/models", timeout=10).json()
    assert listing["data"][0]["id"] == "rolemodel/chat"


def test_a_port_already_taken_is_a_clean_start_up_error(backend: ScriptedBackend, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, backend.base_url)
    with RouterProcess("memory:", catalog=catalog, extra=["--http", "127.0.0.1:0"]) as first:
        taken = first.http_url.removeprefix("http://")
        second = RouterProcess("memory:", catalog=catalog, extra=["--http", taken])
        with pytest.raises(RuntimeError, match="router did not start"):
            second.start()
    assert "Address already in use" in second.logs() or "address already in use" in second.logs().lower()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def secured(backend: ScriptedBackend, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    directory = tmp_path_factory.mktemp("secured")
    tokens = directory / "tokens.json"
    tokens.write_text(
        json.dumps({"tokens": [{"name": "admin", "token": ADMIN}, {"name": "ci", "token": CHORES, "roles": ["chore"]}]})
    )
    extra = ["--http", "127.0.0.1:0", "--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)]
    extra += ["--tokens-file", str(tokens)]
    with RouterProcess("memory:", catalog=write_catalog(directory, backend.base_url), extra=extra) as router:
        yield router


def test_the_front_door_serves_tls_and_the_same_tokens(
    secured: RouterProcess, pki: Pki, backend: ScriptedBackend
) -> None:
    assert secured.http_url.startswith("https://")
    trust = ssl.create_default_context(cafile=str(pki.ca))
    backend.script(LOCAL_MODEL, [Reply(text="over TLS")])
    chat: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
    with openai.OpenAI(
        base_url=secured.http_url + "/v1",
        api_key=ADMIN,
        max_retries=0,
        http_client=openai.DefaultHttpxClient(verify=trust),
    ) as client:
        answer = client.chat.completions.create(model="rolemodel/chat@local", messages=chat)
    assert answer.choices[0].message.content == "over TLS"
    with (
        openai.OpenAI(
            base_url=secured.http_url + "/v1",
            api_key=CHORES,
            max_retries=0,
            http_client=openai.DefaultHttpxClient(verify=trust),
        ) as client,
        pytest.raises(openai.PermissionDeniedError) as caught,
    ):
        client.chat.completions.create(model="rolemodel/chat@local", messages=chat)
    assert caught.value.code == "ROLE_NOT_PERMITTED"
    with pytest.raises(httpx.TransportError):
        httpx.get(secured.http_url.replace("https://", "http://") + "/v1/models", timeout=5)
    refused = httpx.post(secured.http_url + "/v1/chat/completions", json={}, verify=trust, timeout=5)
    assert refused.status_code == 401
    assert httpx.get(secured.http_url + "/v1/models", verify=trust, timeout=5).status_code == 200
    assert ADMIN not in secured.logs() and CHORES not in secured.logs()


def test_front_door_requests_show_in_the_router_s_metrics(backend: ScriptedBackend, tmp_path: Path) -> None:
    port = free_port()
    catalog = write_catalog(tmp_path, backend.base_url)
    backend.script(LOCAL_MODEL, [Reply(text="counted")])
    extra = ["--http", "127.0.0.1:0", "--metrics", f"127.0.0.1:{port}"]
    with RouterProcess("memory:", catalog=catalog, extra=extra) as router:
        answer = httpx.post(
            router.http_url + "/v1/chat/completions",
            json={"model": "rolemodel/chat@local", "messages": [{"role": "user", "content": "hi"}]},
            timeout=10,
        )
        assert answer.status_code == 200
        refused = httpx.post(router.http_url + "/v1/chat/completions", json={"model": "x", "messages": []}, timeout=10)
        assert refused.status_code == 400
        series = scrape(port)
    assert series['rolemodel_decisions_total{endpoint="local",role="chat"}'] == 1.0
    assert series['rolemodel_outcomes_total{class="success",endpoint="local"}'] == 1.0
    assert series['rolemodel_errors_total{reason="REQUEST_INVALID"}'] == 1.0
