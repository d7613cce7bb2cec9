"""The metrics of kept state: how much each kind holds, its caps, and what was evicted or refused (spec 12.6).

Read at scrape time from the store and the memo of verified prefixes, so the figures cost nothing
between scrapes. A store that keeps its state elsewhere (Redis) reports only the memo.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rolemodel_router.recent_prefixes import RecentPrefixes
from rolemodel_router.state.caps import CappedKeys, Caps


@dataclass(frozen=True)
class StateFigures:
    """One kind of state: what it holds now, its caps (0: none), and its evictions and refusals so far."""

    items: int
    digest_bytes: int
    max_items: int
    max_digest_bytes: int
    evictions: int
    refusals: int


def _capped(capped: CappedKeys) -> StateFigures:
    caps: Caps = capped.caps
    total, counters = capped.total, capped.counters
    return StateFigures(
        total.items, total.digest_bytes, caps.items, caps.digest_bytes, counters.evictions, counters.refusals
    )


def state_figures(store: object, prefixes: RecentPrefixes) -> dict[str, StateFigures]:
    """Every kind of state this router keeps in its own memory, by name."""
    figures: dict[str, StateFigures] = {}
    conversations = getattr(store, "conversation_caps", None)
    if isinstance(conversations, CappedKeys):
        figures["conversations"] = _capped(conversations)
    decisions = getattr(store, "decision_caps", None)
    recent = getattr(store, "recent_decisions", None)
    if recent is not None:  # SQLite: decisions live in the database; memory keeps the recent ones
        figures["decisions"] = StateFigures(len(recent), getattr(store, "recent_digest_bytes", 0), 0, 0, 0, 0)
    elif isinstance(decisions, CappedKeys):
        figures["decisions"] = _capped(decisions)
    figures["prefix_memo"] = StateFigures(
        len(prefixes), prefixes.memory_bytes, prefixes.max_conversations, prefixes.max_bytes, prefixes.evictions, 0
    )
    return figures


class StateCollector(Collector):
    """Prometheus series for :func:`state_figures`."""

    def __init__(self, store: object, prefixes: RecentPrefixes) -> None:
        self.store = store
        self.prefixes = prefixes

    def collect(self) -> Iterator[Metric]:
        items = GaugeMetricFamily("rolemodel_state_items", "Items of kept state by kind", labels=["kind"])
        size = GaugeMetricFamily(
            "rolemodel_state_bytes", "Bytes of digests (the memo: of requests) held, by kind", labels=["kind"]
        )
        caps = GaugeMetricFamily("rolemodel_state_cap", "Caps on kept state (0: none)", labels=["kind", "measure"])
        evicted = CounterMetricFamily(
            "rolemodel_state_evictions", "Items dropped to stay within the caps", labels=["kind"]
        )
        refused = CounterMetricFamily(
            "rolemodel_state_refusals", "Calls refused with STATE_LIMIT_REACHED", labels=["kind"]
        )
        for kind, f in state_figures(self.store, self.prefixes).items():
            items.add_metric([kind], f.items)
            size.add_metric([kind], f.digest_bytes)
            caps.add_metric([kind, "items"], f.max_items)
            caps.add_metric([kind, "bytes"], f.max_digest_bytes)
            evicted.add_metric([kind], f.evictions)
            refused.add_metric([kind], f.refusals)
        yield from (items, size, caps, evicted, refused)
