"""The dashboard's state: the journal's events folded into bounded tables the read API answers from.

Memory is bounded whatever the traffic: the last ``max_decisions`` decisions are kept in full
(the page shows them), conversations keep running totals (least recently active dropped past
``max_conversations``) and a timeline made of their decisions still held, totals per hour are
kept for ``HOURS_KEPT`` hours, and outcomes that arrive before their decision (another replica's
events on a shared journal) wait in a small bounded table.

Costs of a decision: the reported cost once an outcome with usage arrived, else the estimate;
a failure without usage cost nothing. Baselines follow :mod:`.baselines`. Every change to a
decision bumps its ``rev``, so that a page polling ``after=<rev>`` receives new decisions and
decisions that an outcome completed.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from rolemodel_router.dashboard.baselines import PreviousTurn, baseline_turn_picos
from rolemodel_router.dashboard.events import Event
from rolemodel_router.engine.catalog_index import CatalogIndex

HOUR_MS = 3_600_000
HOURS_KEPT = 14 * 24
MAX_ORPHAN_OUTCOMES = 1_000
USAGE_FIELDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
#: Numbers summed per conversation, per hour and overall.
SUMS = (
    "decisions",
    "cost_picos",
    "premium_picos",
    "cheapest_picos",
    "prompt_tokens",
    "cached_predicted",
    "reported_input_tokens",
    "reported_cache_read_tokens",
    "premium_turns",
    "failures",
)


def _contribution(record: Event) -> dict[str, int]:
    outcome = record["outcome"]
    return {
        "decisions": 1,
        "cost_picos": record["cost_picos"],
        "premium_picos": record["premium_picos"],
        "cheapest_picos": record["cheapest_picos"],
        "prompt_tokens": record["prompt_tokens"],
        "cached_predicted": record["cached_predicted"],
        "reported_input_tokens": outcome["input_tokens"] if outcome else 0,
        "reported_cache_read_tokens": outcome["cache_read_tokens"] if outcome else 0,
        "premium_turns": int(record["endpoint"] == record["premium_endpoint"]),
        "failures": int(bool(outcome) and outcome["class"] != "SUCCESS"),
    }


def _add(sums: dict[str, int], contribution: dict[str, int], sign: int) -> None:
    for key, value in contribution.items():
        sums[key] = sums.get(key, 0) + sign * value


def empty_sums() -> dict[str, int]:
    return dict.fromkeys(SUMS, 0)


@dataclass
class ConversationSummary:
    conversation_id: str
    sums: dict[str, int] = field(default_factory=empty_sums)
    turns: deque[Event] = field(default_factory=deque)
    previous: PreviousTurn | None = None
    last_main_id: str = ""
    first_at_ms: int = 0
    last_at_ms: int = 0


@dataclass
class EndpointStats:
    chosen: int = 0
    served: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    ttft_ms: deque[int] = field(default_factory=lambda: deque(maxlen=200))


class ActivityView:
    """Folds events; :meth:`fold` is the only writer, the ``*_json`` readers never change state."""

    def __init__(self, index: CatalogIndex, max_decisions: int = 10_000, max_conversations: int = 5_000) -> None:
        self.index = index
        self.max_decisions = max_decisions
        self.max_conversations = max_conversations
        #: Changes with every process, so a page can tell that its cursor belongs to another view.
        self.view_id = secrets.token_hex(6)
        self.rev = 0
        self.ring: deque[Event] = deque()
        #: Decisions by id, in the order of their last change: a poll walks back from the end.
        self.by_id: OrderedDict[str, Event] = OrderedDict()
        #: What an always-X policy would have cached before each decision held (its baselines' input).
        self.previous_turns: dict[str, PreviousTurn] = {}
        self.conversations: OrderedDict[str, ConversationSummary] = OrderedDict()
        self.hours: OrderedDict[int, dict[str, int]] = OrderedDict()
        self.totals = empty_sums()
        self.endpoints: dict[str, EndpointStats] = {}
        self.quotas: dict[str, Event] = {}
        self.share: dict[str, dict[str, float]] = {}
        #: Main turns and premium turns per role, since this view started.
        self.role_turns: dict[str, list[int]] = {}
        self.orphans: OrderedDict[str, list[Event]] = OrderedDict()

    # -- folding -------------------------------------------------------------------------------

    def fold(self, events: list[Event]) -> None:
        for event in events:
            if event.get("kind") == "decision":
                self._decision(event)
            elif event.get("kind") == "outcome":
                self._outcome(event)
            elif event.get("kind") == "quotas":
                self._quotas(event)

    def _economics_picos(self, endpoint_id: str, record: Event, output_tokens: int) -> int:
        endpoint = self.index.endpoints.get(endpoint_id)
        if endpoint is None:
            return 0
        previous = self.previous_turns.get(record["id"])
        return baseline_turn_picos(
            endpoint.economics, record["prompt_tokens"], output_tokens, record["at_ms"], previous
        )

    def _price_baselines(self, record: Event) -> None:
        outcome = record["outcome"]
        output = outcome["output_tokens"] if outcome and outcome["has_usage"] else record["output_estimate"]
        record["premium_picos"] = self._economics_picos(record["premium_endpoint"], record, output)
        record["cheapest_picos"] = self._economics_picos(record["cheapest_endpoint"], record, output)

    def _bucket(self, at_ms: int) -> dict[str, int]:
        hour = at_ms - at_ms % HOUR_MS
        bucket = self.hours.get(hour)
        if bucket is None:
            bucket = self.hours[hour] = empty_sums()
            while len(self.hours) > HOURS_KEPT:
                self.hours.popitem(last=False)
        return bucket

    def _conversation(self, conversation_id: str) -> ConversationSummary:
        summary = self.conversations.get(conversation_id)
        if summary is None:
            summary = self.conversations[conversation_id] = ConversationSummary(conversation_id)
            while len(self.conversations) > self.max_conversations:
                self.conversations.popitem(last=False)
        else:
            self.conversations.move_to_end(conversation_id)
        return summary

    def _account(self, record: Event, sign: int) -> None:
        contribution = _contribution(record)
        _add(self.totals, contribution, sign)
        _add(self._bucket(record["at_ms"]), contribution, sign)
        summary = self.conversations.get(record["conversation"])
        if summary is not None:
            _add(summary.sums, contribution, sign)

    def _decision(self, event: Event) -> None:
        if event["id"] in self.by_id:
            return  # a journal may deliver an event twice (a retried append); fold it once
        summary = self._conversation(event["conversation"])
        record: Event = {
            **{k: v for k, v in event.items() if k not in ("kind", "share")},
            "outcome": None,
            "cost_picos": event["estimated_picos"],
        }
        if summary.previous is not None and not event["side_request"]:
            self.previous_turns[record["id"]] = summary.previous
        self._price_baselines(record)
        self.rev += 1
        record["rev"] = self.rev
        self.ring.append(record)
        self.by_id[record["id"]] = record
        summary.turns.append(record)
        summary.first_at_ms = summary.first_at_ms or record["at_ms"]
        summary.last_at_ms = max(summary.last_at_ms, record["at_ms"])
        if not event["side_request"]:
            summary.previous = PreviousTurn(record["prompt_tokens"], record["output_estimate"], record["at_ms"])
            summary.last_main_id = record["id"]
        self._account(record, +1)
        self.endpoints.setdefault(record["endpoint"], EndpointStats()).chosen += 1
        if event.get("share"):
            self.share[event["role"]] = event["share"]
        if not event["side_request"]:
            turns = self.role_turns.setdefault(record["role"], [0, 0])
            turns[0] += 1
            turns[1] += record["endpoint"] == record["premium_endpoint"]
        while len(self.ring) > self.max_decisions:
            self._evict()
        for orphan in self.orphans.pop(record["id"], []):
            self._outcome(orphan)

    def _evict(self) -> None:
        old = self.ring.popleft()
        self.by_id.pop(old["id"], None)
        self.previous_turns.pop(old["id"], None)
        summary = self.conversations.get(old["conversation"])
        if summary is not None and summary.turns and summary.turns[0] is old:
            summary.turns.popleft()

    def _quotas(self, event: Event) -> None:
        for quota in event.get("quotas", ()):
            known = self.quotas.get(quota["quota_id"])
            if known is None or known["at_ms"] <= event["at_ms"]:
                first_seen = known["first_seen_ms"] if known else event["at_ms"]
                self.quotas[quota["quota_id"]] = {**quota, "at_ms": event["at_ms"], "first_seen_ms": first_seen}

    def _outcome(self, event: Event) -> None:
        record = self.by_id.get(event["decision"])
        if record is None:
            self.orphans.setdefault(event["decision"], []).append(event)
            while len(self.orphans) > MAX_ORPHAN_OUTCOMES:
                self.orphans.popitem(last=False)
            return
        self._account(record, -1)
        previous = record["outcome"]
        usage = event["usage"]
        fresh = event["has_usage"] or previous is None
        kept = usage if fresh else previous
        record["outcome"] = {
            "class": event["class"],
            "served": event["served"],
            "ttft_ms": event["ttft_ms"] or (previous["ttft_ms"] if previous else 0),
            "escalation_level": event["escalation_level"],
            "has_usage": event["has_usage"] or bool(previous and previous["has_usage"]),
            **{k: kept[k] for k in USAGE_FIELDS},
            "reported_picos": event["reported_picos"] if fresh else previous["reported_picos"],
        }
        outcome = record["outcome"]
        if record["outcome"]["has_usage"]:
            record["cost_picos"] = outcome["reported_picos"]
        elif event["class"] != "SUCCESS":
            record["cost_picos"] = 0
        self._price_baselines(record)
        self._account(record, +1)
        self.rev += 1
        record["rev"] = self.rev
        self.by_id.move_to_end(record["id"])
        summary = self.conversations.get(record["conversation"])
        if summary is not None and summary.last_main_id == record["id"] and event["has_usage"] and summary.previous:
            turn = summary.previous
            summary.previous = PreviousTurn(turn.prompt_tokens, usage["output_tokens"], turn.at_ms)
        stats = self.endpoints.setdefault(event["served"] or record["endpoint"], EndpointStats())
        if previous is None:
            stats.served += 1
        if event["class"] != "SUCCESS":
            stats.failures[event["class"]] = stats.failures.get(event["class"], 0) + 1
        if event["ttft_ms"]:
            stats.ttft_ms.append(event["ttft_ms"])

    # -- reading -------------------------------------------------------------------------------

    def decisions(
        self, *, after: int = 0, role: str = "", endpoint: str = "", conversation: str = "", limit: int = 10_000
    ) -> tuple[list[Event], bool]:
        """The first ``limit`` decisions changed after revision ``after``, oldest change first, filtered.

        Returns them and whether more follow. Records are handed out as they are, not copied: the
        caller serialises them at once, inside the event loop, before anything folds again.
        """
        found = []
        for r in reversed(self.by_id.values()):
            if r["rev"] <= after:
                break
            if (
                (not role or r["role"] == role)
                and (not endpoint or r["endpoint"] == endpoint)
                and (not conversation or r["conversation"] == conversation)
            ):
                found.append(r)
        found.reverse()
        return found[:limit], len(found) > limit

    def conversation_list(self, limit: int = 200) -> list[Event]:
        newest = itertools.islice(reversed(self.conversations.values()), limit)
        return [self._conversation_json(s) for s in newest]

    def _conversation_json(self, summary: ConversationSummary) -> Event:
        sums = summary.sums
        return {
            "conversation": summary.conversation_id,
            "first_at_ms": summary.first_at_ms,
            "last_at_ms": summary.last_at_ms,
            **{k: sums[k] for k in SUMS},
            "saved_vs_premium_picos": sums["premium_picos"] - sums["cost_picos"],
        }

    def conversation(self, conversation_id: str) -> ConversationSummary | None:
        return self.conversations.get(conversation_id)

    def sums_json(self, sums: dict[str, int]) -> Event:
        prompt = sums["prompt_tokens"]
        reported = sums["reported_input_tokens"]
        return {
            **sums,
            "saved_vs_premium_picos": sums["premium_picos"] - sums["cost_picos"],
            "cache_hit_ratio_predicted": sums["cached_predicted"] / prompt if prompt else None,
            "cache_hit_ratio_reported": sums["reported_cache_read_tokens"] / reported if reported else None,
            "premium_share": sums["premium_turns"] / sums["decisions"] if sums["decisions"] else None,
        }

    def hourly(self) -> list[Event]:
        return [{"hour_start_ms": hour, **self.sums_json(sums)} for hour, sums in self.hours.items()]

    def daily(self) -> list[Event]:
        days: OrderedDict[int, dict[str, int]] = OrderedDict()
        for hour, sums in self.hours.items():
            _add(days.setdefault(hour - hour % (24 * HOUR_MS), empty_sums()), sums, +1)
        return [{"day_start_ms": day, **self.sums_json(sums)} for day, sums in days.items()]

    def premium_share_by_role(self) -> list[Event]:
        return [
            {
                "role": role,
                "premium_share": premium_turns / turns,
                "decisions": turns,
                "target_share": (self.share.get(role) or {}).get("target"),
                "controller_realized_share": (self.share.get(role) or {}).get("realized"),
            }
            for role, (turns, premium_turns) in sorted(self.role_turns.items())
        ]

    def endpoint_stats(self, endpoint_id: str) -> dict[str, Any]:
        stats = self.endpoints.get(endpoint_id, EndpointStats())
        samples = sorted(stats.ttft_ms)
        return {
            "chosen": stats.chosen,
            "served": stats.served,
            "failures": dict(stats.failures),
            "reported_ttft_ms_p50": samples[len(samples) // 2] if samples else None,
        }
