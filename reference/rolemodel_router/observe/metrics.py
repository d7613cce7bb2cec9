"""Prometheus metrics: which model served, why, at what cost (``--metrics HOST:PORT``).

The series answer an operator's questions without reading code: how many
decisions went to each endpoint and role, which exclusions fire, how often
chores escalate, how much of each quota is left, what the router estimated
against what providers reported, how much of the prompt was served from
cache, how long Route takes, and whether the state store is failing.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from rolemodel.v1 import common_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.observe.state_metrics import StateCollector
from rolemodel_router.recent_prefixes import RecentPrefixes

D = decision_pb2
PICOS_PER_USD = 1e12


def _name(enum: object, value: int, prefix: str) -> str:
    name: str = enum.Name(value)  # type: ignore[attr-defined]
    return name.removeprefix(prefix).lower()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.decisions = Counter(
            "rolemodel_decisions", "Decisions by chosen endpoint and role", ["endpoint", "role"], registry=r
        )
        self.exclusions = Counter("rolemodel_exclusions", "Candidate exclusions by code", ["code"], registry=r)
        self.escalated = Counter(
            "rolemodel_escalated_decisions", "Decisions lifted by escalation", ["role"], registry=r
        )
        self.quota_used = Gauge(
            "rolemodel_quota_used", "Quota used in the current window", ["quota", "measure"], registry=r
        )
        self.quota_remaining = Gauge(
            "rolemodel_quota_remaining",
            "Quota left in the current window (limited measures)",
            ["quota", "measure"],
            registry=r,
        )
        self.estimated_cost = Counter(
            "rolemodel_estimated_cost_usd", "Estimated cost of chosen endpoints", ["endpoint"], registry=r
        )
        self.reported_cost = Counter(
            "rolemodel_reported_cost_usd", "Cost from usage that outcomes reported", ["endpoint"], registry=r
        )
        self.prompt_tokens = Counter(
            "rolemodel_prompt_tokens",
            "Prompt tokens of chosen endpoints, cached or not",
            ["endpoint", "kind"],
            registry=r,
        )
        self.outcomes = Counter(
            "rolemodel_outcomes", "Outcomes by served endpoint and class", ["endpoint", "class"], registry=r
        )
        self.route_seconds = Histogram(
            "rolemodel_route_seconds",
            "Time to answer Route",
            buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.attempts = Counter(
            "rolemodel_execute_attempts",
            "Execute attempts by endpoint called, as attempt_started names it: the first of a call, or a later one",
            ["endpoint", "attempt"],
            registry=r,
        )
        self.attempt_failures = Counter(
            "rolemodel_execute_attempt_failures",
            "Execute attempts that failed, by endpoint and outcome class",
            ["endpoint", "class"],
            registry=r,
        )
        self.errors = Counter("rolemodel_errors", "Refused or failed calls by error reason", ["reason"], registry=r)
        self.store_errors = Counter("rolemodel_state_store_errors", "State-store failures", ["store"], registry=r)

    def watch_state(self, store: object, prefixes: RecentPrefixes) -> None:
        """Export what the store and the memo keep, their caps, evictions and refusals (spec 12.6)."""
        self.registry.register(StateCollector(store, prefixes))

    def serve(self, address: str) -> int:
        """Expose /metrics on HOST:PORT; returns the bound port."""
        host, _, port = address.rpartition(":")
        server, _ = start_http_server(int(port), addr=host or "127.0.0.1", registry=self.registry)
        bound: int = server.server_address[1]
        return bound

    def decision(self, decision: D.Decision, seconds: float) -> None:
        self.route_seconds.observe(seconds)
        self.decisions.labels(decision.chosen_endpoint_id, decision.role).inc()
        for candidate in decision.candidates:
            if candidate.HasField("tier"):
                for exclusion in candidate.exclusions:
                    self.exclusions.labels(_name(D.ExclusionCode, exclusion.code, "EXCLUSION_CODE_")).inc()
            if candidate.rank == 1:
                cost = candidate.cost
                self.estimated_cost.labels(candidate.endpoint_id).inc(cost.total_picos / PICOS_PER_USD)
                self.prompt_tokens.labels(candidate.endpoint_id, "cached").inc(cost.cached_tokens)
                self.prompt_tokens.labels(candidate.endpoint_id, "uncached").inc(cost.uncached_tokens)
        if any(r.code == D.REASON_CODE_ESCALATED for r in decision.reasons):
            self.escalated.labels(decision.role).inc()
        for quota in decision.quota_states:
            self._quota(quota)

    def _quota(self, quota: D.QuotaState) -> None:
        for measure in ("requests", "tokens", "cost_picos"):
            self.quota_used.labels(quota.quota_id, measure).set(getattr(quota.used, measure))
            if getattr(quota.limit, measure):
                self.quota_remaining.labels(quota.quota_id, measure).set(getattr(quota.remaining, measure))

    def outcome(self, outcome: outcome_pb2.Outcome, response: router_service_pb2.ReportOutcomeResponse) -> None:
        if response.replayed:
            return
        served = outcome.served_endpoint_id
        self.outcomes.labels(served, _name(common_pb2.OutcomeClass, outcome.outcome_class, "OUTCOME_CLASS_")).inc()
        self.reported_cost.labels(served).inc(response.effects.reported_cost.total_picos / PICOS_PER_USD)
        for quota in response.effects.quota_states:
            self._quota(quota)

    def execute_event(self, event: router_service_pb2.ExecuteResponse) -> None:
        """Execute records its own outcome; count it here as a reported one would be.

        Attempts are counted from ``attempt_started``, which names every endpoint the router called: with
        the failures, they give each endpoint's failure rate, and the later attempts show how often the
        fallbacks carry the load, where the decisions count only the endpoint each call chose.
        """
        kind = event.WhichOneof("event")
        if kind == "attempt_started":
            started = event.attempt_started
            self.attempts.labels(started.endpoint_id, "first" if started.attempt <= 1 else "later").inc()
        elif kind == "attempt_failed":
            failed = event.attempt_failed
            self.attempt_failures.labels(
                failed.endpoint_id, _name(common_pb2.OutcomeClass, failed.outcome_class, "OUTCOME_CLASS_")
            ).inc()
        elif kind == "completed":
            done = event.completed
            self.outcome(
                outcome_pb2.Outcome(
                    served_endpoint_id=done.served_endpoint_id, outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS
                ),
                router_service_pb2.ReportOutcomeResponse(effects=done.effects),
            )
        elif kind == "failed":
            self.outcomes.labels(
                event.failed.served_endpoint_id,
                _name(common_pb2.OutcomeClass, event.failed.outcome_class, "OUTCOME_CLASS_"),
            ).inc()

    def error(self, reason: str) -> None:
        self.errors.labels(reason).inc()
        if reason == "STATE_STORE_UNAVAILABLE":
            self.store_errors.labels("shared").inc()
