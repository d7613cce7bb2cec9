"""The Grafana dashboard shipped in examples/ asks only for series the router exports, by labels they carry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from rolemodel.v1 import common_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.observe.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "examples" / "grafana" / "rolemodel-router.json"
D = decision_pb2


def exported_series() -> dict[str, set[str]]:
    """Every sample name the router's metrics export, with its label names, after one of each event."""
    metrics = Metrics()
    candidate = D.Candidate(endpoint_id="e1", tier=0, rank=1, exclusions=[D.Exclusion(code=D.EXCLUSION_CODE_UNHEALTHY)])
    candidate.cost.total_picos = 10**9
    candidate.cost.cached_tokens = 100
    quota = D.QuotaState(quota_id="q1", limit=D.QuotaUsage(requests=10), used=D.QuotaUsage(requests=1))
    decision = D.Decision(
        chosen_endpoint_id="e1",
        role="chat",
        candidates=[candidate],
        reasons=[D.SelectionReason(code=D.REASON_CODE_ESCALATED)],
        quota_states=[quota],
    )
    metrics.decision(decision, 0.001)
    metrics.outcome(
        outcome_pb2.Outcome(served_endpoint_id="e1", outcome_class=common_pb2.OUTCOME_CLASS_SERVER_ERROR),
        router_service_pb2.ReportOutcomeResponse(),
    )
    failed = router_service_pb2.ExecuteResponse()
    failed.attempt_failed.endpoint_id = "e1"
    failed.attempt_failed.outcome_class = common_pb2.OUTCOME_CLASS_TIMEOUT
    metrics.execute_event(failed)
    metrics.error("STATE_STORE_UNAVAILABLE")
    series: dict[str, set[str]] = {}
    for line in generate_latest(metrics.registry).decode().splitlines():
        if line.startswith("#") or not line:
            continue
        name, _, labels = line.partition("{")
        name = name.split(" ")[0]
        series.setdefault(name, set()).update(re.findall(r'(\w+)="', labels))
    return series


def queries() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel, target) for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_query_names_exported_series_and_their_labels() -> None:
    series = exported_series()
    seen = set()
    for panel, target in queries():
        expr = target["expr"]
        names = set(re.findall(r"\brolemodel_\w+", expr))
        assert names, panel["title"]
        for name in names:
            assert name in series, f"{panel['title']}: {name} is not exported"
        labels = set().union(*(series[n] for n in names)) | {"le"}
        used = set(re.findall(r"by \(([^)]*)\)", expr))
        used = {label.strip() for group in used for label in group.split(",")}
        used |= set(re.findall(r"[{,](\w+)!?=", expr))
        used |= set(re.findall(r"\{\{(\w+)\}\}", target["legendFormat"]))
        assert used <= labels, f"{panel['title']}: labels {used - labels} are not on {names}"
        seen |= names
    # Every family the router exports has a panel.
    families = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in series}
    covered = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in seen}
    assert families == covered


def test_panels_have_ids_places_and_the_prometheus_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells = {(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels}
    assert len(cells) == len(panels)
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert all(p["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in panels)
