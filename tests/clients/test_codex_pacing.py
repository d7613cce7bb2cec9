"""Codex (the pinned npm release) on a paced ChatGPT plan: the hard sessions go to the plan, the easy ones to DeepSeek.

The catalog of the Responses tests, with ``gpt`` as a subscription: two reported quotas (its 5-hour
and 7-day windows) and a premium-share target for ``code.edit`` paced by them (spec 9.8). The
scripted backend meters every ``gpt`` answer and reports both windows in Codex's headers. Codex is
configured exactly as docs/clients.md says; each session declares its difficulty through the
documented ``ROLEMODEL_DIFFICULTY`` variable, as a wrapper script would.

1. While the plan has room, the share controller sends the harder sessions to ``gpt`` and the
   easier ones to ``deepseek``.
2. Once the plan reports a window at 97% (past the 95% target), even a hard session goes to
   ``deepseek``: the hard stop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rolemodel_router.backends.scripted import Reply, ScriptedBackend, Subscription
from tests.clients.codex_harness import RecordingProxy, catalog_backend, recorded_router, run_codex, write_codex_home
from tests.clients.harness import client_binary
from tests.http.responses_catalog import DEEPSEEK_MODEL, GPT_MODEL, catalog

HARD, EASY = "0.9", "0.1"
#: Room for every session of the test: one session is a few thousand metered tokens.
ROOMY = {"short_capacity": 10_000_000, "long_capacity": 100_000_000, "long_used": 0.2}


def paced_catalog(base_url: str) -> dict[str, Any]:
    data = catalog(base_url)
    windows = [("plan-5h", 18000, "USAGE_WINDOW_SHORT", 0.005), ("plan-7d", 604800, "USAGE_WINDOW_LONG", 0.0005)]
    data["policies"]["quotas"] = [
        {
            "id": quota_id,
            "endpoint_id": "gpt",
            "window_kind": "QUOTA_WINDOW_KIND_REPORTED",
            "window_seconds": seconds,
            "usage_window": window,
            "prior_share_per_request": prior,
        }
        for quota_id, seconds, window, prior in windows
    ]
    data["policies"]["premium_share_targets"] = [{"role": "code.edit", "target_share": 0.5, "pace_quota_id": "plan-5h"}]
    return data


@pytest.fixture(scope="module")
def codex() -> Path:
    return client_binary("codex")


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with catalog_backend() as server:
        server.configure(
            GPT_MODEL, default=Reply(text="Done on the plan."), subscription=Subscription("codex", **ROOMY)
        )
        server.configure(DEEPSEEK_MODEL, default=Reply(text="Done on DeepSeek."))
        yield server


@pytest.fixture
def proxy(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RecordingProxy]:
    path = tmp_path / "paced.yaml"
    path.write_text(yaml.safe_dump(paced_catalog(backend.base_url), sort_keys=False))
    with recorded_router(path) as recorder:
        yield recorder


def test_the_plan_takes_the_hard_sessions_until_it_is_out(
    codex: Path, backend: ScriptedBackend, proxy: RecordingProxy, tmp_path: Path
) -> None:
    home = write_codex_home(tmp_path / "codex-home", proxy.base_url)

    def session(name: str, difficulty: str) -> str:
        workdir = tmp_path / name
        workdir.mkdir()
        done = run_codex(
            codex, home, workdir, "Say what you did.", model="rolemodel/code.edit",
            variables={"ROLEMODEL_DIFFICULTY": difficulty},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        answered = [e for e in proxy.responses() if e.status == 200]
        return answered[-1].headers["x-rolemodel-endpoint"]

    served = [session(f"s{i}", difficulty) for i, difficulty in enumerate([HARD, EASY, HARD, EASY, HARD, EASY])]
    assert served == ["gpt", "deepseek"] * 3, "the hardest half of the sessions goes to the plan"
    # gpt is called with the router's key here, so its plan is the operator's: Codex is not shown its usage (14.5)
    assert not any("x-codex-primary-used-percent" in e.headers for e in proxy.responses())

    backend.configure(GPT_MODEL, subscription=Subscription("codex", **{**ROOMY, "short_used": 0.97}))
    assert session("out", HARD) == "gpt", "the router learns the plan is out from this answer"
    assert session("after", HARD) == "deepseek", "past the 95% target, even a hard session goes to DeepSeek"
