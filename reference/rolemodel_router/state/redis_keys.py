"""Redis key layout of the shared state.

Every key starts with ``rolemodel:v1:<namespace>:``. The namespace defaults
to the first 16 hex digits of the catalog digest, so replicas that load the
same catalog share state and routers with different catalogs can share one
Redis without meeting. The ``v1`` segment versions the layout itself.

    conv:<id>             conversation state without its cache entries (JSON)
    convv:<id>            the conversation's version, for optimistic commits
    cache:<id>:<endpoint> one endpoint's cache entry; expires with it (PXAT)
    dec:<decision>        decision record (JSON), kept for the retention time
    out:<key>             outcome record by idempotency key (JSON)
    qt:<quota>            the quota's events by time (sorted set)
    qe:<quota>            the quota's events by decision (hash: "requests,tokens,cost,at")
    health:<endpoint>     observed profile (JSON)
    usage:<quota>         a reported quota's usage window (JSON, spec 9.8); the last write wins
    share:<role>          premium-share window (list of JSON, newest first)
    sharei:<role>         premium-share integral term
    activity              the dashboard's events (a stream, capped), shared by the replicas
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str

    @classmethod
    def for_namespace(cls, namespace: str) -> Keys:
        return cls(f"rolemodel:v1:{namespace}:")

    def conversation(self, conversation_id: str) -> str:
        return f"{self.prefix}conv:{conversation_id}"

    def version(self, conversation_id: str) -> str:
        return f"{self.prefix}convv:{conversation_id}"

    def cache(self, conversation_id: str, endpoint_id: str) -> str:
        return f"{self.prefix}cache:{conversation_id}:{endpoint_id}"

    def decision(self, decision_id: str) -> str:
        return f"{self.prefix}dec:{decision_id}"

    def outcome(self, idempotency_key: str) -> str:
        return f"{self.prefix}out:{idempotency_key}"

    def quota_times(self, quota_id: str) -> str:
        return f"{self.prefix}qt:{quota_id}"

    def quota_events(self, quota_id: str) -> str:
        return f"{self.prefix}qe:{quota_id}"

    def health(self, endpoint_id: str) -> str:
        return f"{self.prefix}health:{endpoint_id}"

    def usage(self, quota_id: str) -> str:
        return f"{self.prefix}usage:{quota_id}"

    def occupancy(self, endpoint_id: str) -> str:
        return f"{self.prefix}occupancy:{endpoint_id}"

    def share(self, role: str) -> str:
        return f"{self.prefix}share:{role}"

    def share_integral(self, role: str) -> str:
        return f"{self.prefix}sharei:{role}"

    def activity(self) -> str:
        return f"{self.prefix}activity"
