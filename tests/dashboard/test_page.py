"""The dashboard page in a real browser (Debian's chromium, driven by Playwright), against the demo.

``rolemodel demo`` runs in a process of its own and plays its session; the page is then opened
on the address it printed. The tests compare what the page shows with what the read API answers,
use the filters, and save screenshots under ``tests/artifacts/`` (ignored by git) for a person
to look at. Nothing here downloads a browser: without ``/usr/bin/chromium`` the tests skip,
unless ``ROLEMODEL_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.redis_server import free_port
from tests.router.harness import RouterProcess

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
REQUIRE = os.environ.get("ROLEMODEL_REQUIRE_BROWSER") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _browser_or_skip() -> Any:
    if not Path(CHROMIUM).is_file():
        if REQUIRE:
            pytest.fail("chromium is required (ROLEMODEL_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRE:
            raise
        pytest.skip("the playwright package is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    """The demo, after its session; yields the dashboard's base URL (``http://HOST:PORT``)."""
    ui = f"127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "rolemodel_router.cli.main", "demo", "--listen", "127.0.0.1:0", "--ui", ui]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    printed = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        printed.append(line)
        if "Ctrl-C stops it" in line or not line:
            break
    text = "".join(printed)
    try:
        match = re.search(r"dashboard at (http://\S+)/ui/", text)
        assert match, text
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser: Any, demo: str) -> Iterator[Any]:
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{demo}/ui/")
    tab.wait_for_selector("[data-testid=total-cost]")
    tab.wait_for_selector("[data-decision-id]")
    yield tab
    tab.close()
    assert errors == []


def api(base: str, path: str) -> Any:
    return httpx.get(f"{base}/ui/api/v1/{path}", timeout=10).json()


def test_the_totals_on_the_page_are_the_read_api_s(demo: str, page: Any) -> None:
    totals = api(demo, "overview")["totals"]
    assert totals["decisions"] == 7  # the demo's session: seven turns through Execute
    for testid, key in (
        ("total-cost", "cost_picos"),
        ("total-premium", "premium_picos"),
        ("total-cheapest", "cheapest_picos"),
        ("total-saved", "saved_vs_premium_picos"),
    ):
        assert page.get_attribute(f"[data-testid={testid}]", "data-picos") == str(totals[key])
    assert page.inner_text("[data-testid=total-decisions]") == "7"
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)


def test_the_live_decisions_and_their_filters(demo: str, page: Any) -> None:
    decisions = api(demo, "decisions")["decisions"]
    shown = page.locator("[data-decision-id]")
    assert sorted(shown.evaluate_all("rows => rows.map(r => r.dataset.decisionId)")) == sorted(
        d["id"] for d in decisions
    )
    page.select_option("#filter-role", "chore")
    chores = api(demo, "decisions?role=chore")["decisions"]
    page.wait_for_function(f"document.querySelectorAll('[data-decision-id]').length === {len(chores)}")
    assert set(shown.evaluate_all("rows => rows.map(r => r.dataset.role)")) == {"chore"}
    page.select_option("#filter-role", "")
    page.select_option("#filter-endpoint", "gpt-5")
    on_gpt5 = api(demo, "decisions?endpoint=gpt-5")["decisions"]
    page.wait_for_function(f"document.querySelectorAll('[data-decision-id]').length === {len(on_gpt5)}")
    assert page.get_attribute("[data-testid=decisions-shown]", "data-count") == str(len(on_gpt5))
    page.screenshot(path=str(ARTIFACTS / "decisions-filtered.png"))
    page.select_option("#filter-endpoint", "")


def test_a_conversation_s_timeline_matches_the_api(demo: str, page: Any) -> None:
    agent = next(c for c in api(demo, "conversations")["conversations"] if c["conversation"].endswith("-agent"))
    timeline = api(demo, f"conversations/{agent['conversation']}")
    page.select_option("#timeline-conversation", agent["conversation"])
    page.wait_for_selector(f"[data-testid=timeline][data-conversation='{agent['conversation']}']")
    assert page.locator("[data-testid=timeline] table.timeline tbody tr").count() == len(timeline["turns"])
    assert page.get_attribute("[data-testid=timeline-cost]", "data-picos") == str(timeline["totals"]["cost_picos"])
    assert page.get_attribute("[data-testid=timeline-premium]", "data-picos") == str(
        timeline["totals"]["premium_picos"]
    )
    assert page.locator("[data-testid=timeline-chart] canvas").count() == 1
    page.locator("#timeline-section").screenshot(path=str(ARTIFACTS / "timeline.png"))


def test_quotas_and_endpoints_are_shown(demo: str, page: Any) -> None:
    quotas = api(demo, "quotas")["quotas"]
    endpoints = api(demo, "endpoints")["endpoints"]
    for quota in quotas:
        assert page.locator(f"[data-testid=quotas] tr[data-quota='{quota['quota_id']}']").count() >= 1
    for endpoint in endpoints:
        row = page.locator(f"[data-testid=endpoints] tr[data-endpoint='{endpoint['id']}']")
        assert row.locator("[data-chosen]").get_attribute("data-chosen") == str(endpoint["chosen"])
    page.locator("#quotas").screenshot(path=str(ARTIFACTS / "quotas.png"))


def test_the_page_asks_for_a_token_with_the_ui_scope(browser: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    {"name": "agent", "token": "route-only-token-0123456789"},
                    {"name": "dashboard", "token": "ui-only-token-0123456789", "scopes": ["ui"]},
                ]
            }
        )
    )
    extra = ["--tokens-file", str(tokens), "--ui", "127.0.0.1:0"]
    with RouterProcess("memory:", extra=extra) as router:
        page = browser.new_page()
        page.goto(router.ui_url)
        page.fill("#token", "route-only-token-0123456789")
        page.click("form.token button")
        page.wait_for_selector("text=needs the 'ui' scope")
        page.fill("#token", "ui-only-token-0123456789")
        page.click("form.token button")
        page.wait_for_selector("[data-testid=total-decisions]")
        assert page.inner_text("[data-testid=total-decisions]") == "0"
        fresh = browser.new_page()
        fresh.goto(router.ui_url + "#token=ui-only-token-0123456789")
        fresh.wait_for_selector("[data-testid=total-decisions]")
        assert "token" not in fresh.url
        page.close()
        fresh.close()
