"""The dashboard's read API on a real router process: what it shows, who may read it, what it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from rolemodel import ClientOptions, RoleModelError, RouterClient, conversation_ref, text_message
from rolemodel.v1 import decision_pb2, hints_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from tests.requests import conversation, new_id, outcome, route, usage
from tests.router.harness import RouterProcess

UI_TOKEN = "ui-token-4f1d9b2e7a3c5d6e"
ROUTE_TOKEN = "route-token-8a7b6c5d4e3f2a1b"
BOTH_TOKEN = "both-token-1a2b3c4d5e6f7a8b"
SECRET_TEXT = "the-launch-code-is-PLUM-4711"


@pytest.fixture(scope="module")
def router() -> Iterator[RouterProcess]:
    with RouterProcess("memory:", extra=["--http", "127.0.0.1:0"]) as process:
        yield process


def api(router: RouterProcess, path: str, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{router.http_url}/ui/api/v1/{path}", headers=headers, timeout=10)


def test_the_front_door_serves_the_page_and_names_it_at_start_up(router: RouterProcess) -> None:
    assert router.ui_url == f"{router.http_url}/ui/"
    page = httpx.get(router.ui_url, timeout=10)
    assert page.status_code == 200
    assert '<div id="app">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{router.http_url}/ui", timeout=10, follow_redirects=False).status_code == 307


def test_a_decision_and_its_outcome_show_with_their_costs(router: RouterProcess) -> None:
    conversation_id = new_id("dash")
    with RouterClient(router.address) as client:
        decision = client.route(route("chore", conversation(conversation_id, [400, 600]), difficulty=0.1))
        chosen = next(c for c in decision.candidates if c.endpoint_id == decision.chosen_endpoint_id)
        listed = api(router, f"decisions?conversation={conversation_id}").json()["decisions"]
        assert [d["id"] for d in listed] == [decision.decision_id]
        shown = listed[0]
        assert shown["estimated_picos"] == chosen.cost.total_picos
        assert shown["cost_picos"] == chosen.cost.total_picos
        assert shown["prompt_tokens"] == decision.prompt_tokens
        assert shown["cached_predicted"] == chosen.cost.cached_tokens
        assert shown["role"] == "chore"
        assert shown["outcome"] is None
        assert [r["code"] for r in shown["reasons"]] == [
            decision_pb2.ReasonCode.Name(r.code).removeprefix("REASON_CODE_") for r in decision.reasons
        ]
        response = client.report_outcome(
            outcome(decision.decision_id, decision.chosen_endpoint_id, used=usage(1000, 0, 0, 50), ttft_ms=42)
        )
    after = api(router, f"decisions?conversation={conversation_id}&after={shown['rev']}").json()["decisions"]
    assert [d["id"] for d in after] == [decision.decision_id]
    assert after[0]["outcome"]["class"] == "SUCCESS"
    assert after[0]["outcome"]["ttft_ms"] == 42
    assert after[0]["cost_picos"] == response.effects.reported_cost.total_picos
    timeline = api(router, f"conversations/{conversation_id}").json()
    assert timeline["turns"][-1]["cumulative_cost_picos"] == response.effects.reported_cost.total_picos
    assert timeline["totals"]["decisions"] == 1


def test_filters_and_cursor(router: RouterProcess) -> None:
    conversation_id = new_id("filters")
    with RouterClient(router.address) as client:
        chat = client.route(route("chat", conversation(conversation_id, [100]), difficulty=0.1))
        chore = client.route(route("chore", conversation(conversation_id, [100, 80], turn_index=1), difficulty=0.1))
    by_role = api(router, f"decisions?conversation={conversation_id}&role=chat").json()["decisions"]
    assert [d["id"] for d in by_role] == [chat.decision_id]
    by_endpoint = api(router, f"decisions?endpoint={chore.chosen_endpoint_id}").json()["decisions"]
    assert chore.decision_id in [d["id"] for d in by_endpoint]
    assert all(d["endpoint"] == chore.chosen_endpoint_id for d in by_endpoint)
    everything = api(router, "decisions").json()
    assert everything["more"] is False
    assert everything["next_after"] == everything["rev"]
    assert api(router, f"decisions?after={everything['next_after']}").json()["decisions"] == []
    paged, after, more = [], 0, True
    while more:
        page = api(router, f"decisions?after={after}&limit=2").json()
        assert len(page["decisions"]) <= 2
        paged += page["decisions"]
        after, more = page["next_after"], page["more"]
    assert [d["id"] for d in paged] == [d["id"] for d in everything["decisions"]]


def test_overview_totals_add_up_over_the_decisions(router: RouterProcess) -> None:
    overview = api(router, "overview").json()
    decisions = api(router, "decisions").json()["decisions"]
    totals = overview["totals"]
    assert totals["decisions"] == len(decisions)
    assert totals["cost_picos"] == sum(d["cost_picos"] for d in decisions)
    assert totals["premium_picos"] == sum(d["premium_picos"] for d in decisions)
    assert totals["saved_vs_premium_picos"] == totals["premium_picos"] - totals["cost_picos"]
    assert sum(h["decisions"] for h in overview["hours"]) == len(decisions)
    assert overview["api_version"] == "v1"


def test_quotas_and_endpoints_cover_the_catalog(router: RouterProcess) -> None:
    catalog = load_catalog(router.catalog).catalog
    quotas = api(router, "quotas").json()["quotas"]
    assert [q["quota_id"] for q in quotas] == [q.id for q in catalog.policies.quotas]
    endpoints = api(router, "endpoints").json()["endpoints"]
    assert [e["id"] for e in endpoints] == [e.id for e in catalog.endpoints]
    assert all({"healthy", "observed_ttft_ms", "cooldown_until_ms", "failures"} <= set(e) for e in endpoints)


def test_no_message_content_reaches_the_api(router: RouterProcess) -> None:
    conversation_id = new_id("secret")
    messages = [text_message("user", f"Please remember {SECRET_TEXT} and run the linters.")]
    request = router_service_pb2.RouteRequest(
        conversation=conversation_ref(conversation_id, messages, include_messages=True),
        hints=hints_pb2.RoutingHints(role="chore"),
        include_handoff=True,
    )
    with RouterClient(router.address) as client:
        client.route(request)
    paths = ("overview", "decisions", "conversations", f"conversations/{conversation_id}", "quotas", "endpoints")
    bodies = [api(router, path).text for path in paths]
    assert conversation_id in bodies[1]
    assert not any(SECRET_TEXT in body or "PLUM" in body for body in bodies)


def test_unknown_and_malformed_parameters_are_refused_by_name(router: RouterProcess) -> None:
    refused = api(router, "decisions?rol=chat&limit=0")
    assert refused.status_code == 400
    assert refused.headers["x-rolemodel-error-reason"] == "REQUEST_INVALID"
    fields = {v["field"] for d in refused.json()["error"]["details"] for v in d.get("field_violations", [])}
    assert fields == {"rol", "limit"}
    missing = api(router, "conversations/no-such-conversation")
    assert missing.status_code == 400
    assert httpx.get(f"{router.http_url}/ui/api/v2/overview", timeout=10).status_code == 404


def _tokens_file(directory: Path) -> Path:
    path = directory / "tokens.yaml"
    path.write_text(
        json.dumps(
            {
                "tokens": [
                    {"name": "dashboard", "token": UI_TOKEN, "scopes": ["ui"]},
                    {"name": "agent", "token": ROUTE_TOKEN},
                    {"name": "admin", "token": BOTH_TOKEN, "scopes": ["route", "ui"]},
                ]
            }
        )
    )
    return path


def test_the_api_needs_a_token_with_the_ui_scope(tmp_path: Path) -> None:
    extra = ["--tokens-file", str(_tokens_file(tmp_path)), "--ui", "127.0.0.1:0"]
    with RouterProcess("memory:", extra=extra) as router:
        base = router.ui_url.removesuffix("/ui/")
        assert httpx.get(router.ui_url, timeout=10).status_code == 200  # the page holds no data

        def get(token: str | None) -> httpx.Response:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            return httpx.get(f"{base}/ui/api/v1/overview", headers=headers, timeout=10)

        assert get(None).status_code == 401
        assert get("not-a-token-at-all-1234").status_code == 401
        assert get(ROUTE_TOKEN).status_code == 403
        assert get(ROUTE_TOKEN).headers["x-rolemodel-error-reason"] == "ROLE_NOT_PERMITTED"
        assert get(UI_TOKEN).status_code == 200
        assert get(BOTH_TOKEN).status_code == 200
        request = route("chat", conversation(new_id("scoped"), [100]), difficulty=0.1)
        with RouterClient(router.address, ClientOptions(token=UI_TOKEN)) as client:
            with pytest.raises(RoleModelError) as refused:
                client.route(request)
            assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        with RouterClient(router.address, ClientOptions(token=BOTH_TOKEN)) as client:
            client.route(request)
        assert get(UI_TOKEN).json()["totals"]["decisions"] == 1


def test_bad_scopes_in_a_tokens_file_stop_the_router(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(json.dumps({"tokens": [{"token": UI_TOKEN, "scopes": ["admin"]}]}))
    with pytest.raises(RuntimeError, match="scopes must be"):
        RouterProcess("memory:", extra=["--tokens-file", str(path)]).start()
