"""Mutants of the second round (issue 18): the bugs that slipped through one-sided and narrow checks.

Each is a plausible third-party bug of one of the patterns the issue names: a
rule that fires where it must not (the negative of a positive check), a
boundary one step off, an input that is too narrow (non-ASCII digests), a
settled ambiguity read the other way, a capability claimed and not honoured
(or honoured and not claimed). Like the first round, each patches the
reference router in its own process and says what it breaks in one sentence.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.mutants.catalogue import Mutant, _decide_with, _decision_after, wrap


def exhausted_always() -> None:
    def change(decision: Any, request: Any) -> None:
        for state in decision.quota_states:
            state.exhausted = True

    _decision_after(change)


def empty_window_resets_now() -> None:
    def change(decision: Any, request: Any) -> None:
        for state in decision.quota_states:
            if state.used.requests == 0:
                state.resets_at.CopyFrom(decision.created_at)

    _decision_after(change)


def main_turn_isolated() -> None:
    def change(decision: Any, request: Any) -> None:
        if not request.side_request:
            decision.merge_back = False

    _decision_after(change)


def cache_warm_everywhere() -> None:
    from rolemodel.v1 import decision_pb2

    def change(decision: Any, request: Any) -> None:
        if not any(r.code == decision_pb2.REASON_CODE_CACHE_WARM for r in decision.reasons):
            decision.reasons.add(code=decision_pb2.REASON_CODE_CACHE_WARM, detail="the cache is warm")

    _decision_after(change)


def _status_metadata(reason_name: str, change: Any) -> None:
    from rolemodel_router.server import service

    def make(original: Any) -> Any:
        def mutated(reason: Any, message: Any, metadata: Any = None, *rest: Any, **kw: Any) -> Any:
            if str(reason) == reason_name and metadata:
                metadata = change(dict(metadata))
            return original(reason, message, metadata, *rest, **kw)

        return mutated

    wrap(service, "build_status", make)


def digest_index_one_based() -> None:
    _status_metadata("DIGEST_MISMATCH", lambda m: {**m, "message_index": str(int(m["message_index"]) + 1)})


def endpoint_before_role() -> None:
    from rolemodel.error_reasons import ErrorReason
    from rolemodel_router.engine import errors

    def make(original: Any) -> Any:
        def mutated(self: Any) -> None:
            structural = len(self.items) - len(self.unknown_roles) - len(self.unknown_endpoints)
            if structural == 0 and self.unknown_roles and self.unknown_endpoints:
                endpoint = self.unknown_endpoints[0]
                raise errors.RouterError(
                    ErrorReason.UNKNOWN_ENDPOINT, f"no endpoint '{endpoint}'", {"endpoint_id": endpoint}, self.items
                )
            original(self)

        return mutated

    wrap(errors.Violations, "raise_if_any", make)


def unknown_role_unnamed() -> None:
    _status_metadata("UNKNOWN_ROLE", lambda m: {k: v for k, v in m.items() if k != "role"})


def unknown_endpoint_misnamed() -> None:
    _status_metadata("UNKNOWN_ENDPOINT", lambda m: {**m, "endpoint_id": m["endpoint_id"].upper()})


def reused_key_unnamed() -> None:
    _status_metadata("IDEMPOTENCY_KEY_REUSED", lambda m: {k: v for k, v in m.items() if k != "idempotency_key"})


def quota_refuses_one_early() -> None:
    from rolemodel_router.engine import eligibility

    def make(original: Any) -> Any:
        def mutated(quota: Any, window: Any, need: Any) -> bool:
            return bool(original(quota, replace(window, requests=window.requests + 1), need))

        return mutated

    wrap(eligibility, "admits", make)


def quota_admits_one_more() -> None:
    from rolemodel_router.engine import eligibility

    def make(original: Any) -> Any:
        def mutated(quota: Any, window: Any, need: Any) -> bool:
            return bool(original(quota, replace(window, requests=max(0, window.requests - 1)), need))

        return mutated

    wrap(eligibility, "admits", make)


def ttl_expires_early() -> None:
    from rolemodel_router.state import model

    wrap(model.CacheEntry, "live", lambda original: lambda self, now_ms: original(self, now_ms + 1000))


def ttl_expires_late() -> None:
    from rolemodel_router.state import model

    wrap(model.CacheEntry, "live", lambda original: lambda self, now_ms: original(self, now_ms - 1000))


def escalates_on_success() -> None:
    from rolemodel.v1 import common_pb2, outcome_pb2
    from rolemodel_router.engine import outcome

    def make(original: Any) -> Any:
        def mutated(conv: Any, record: Any, report: Any, index: Any) -> Any:
            if report.outcome_class == common_pb2.OUTCOME_CLASS_SUCCESS:
                failed = outcome_pb2.Outcome()
                failed.CopyFrom(report)
                failed.outcome_class = common_pb2.OUTCOME_CLASS_TASK_FAILED
                return original(conv, record, failed, index)
            return original(conv, record, report, index)

        return mutated

    wrap(outcome, "_escalation", make)


def merged_side_request_isolated() -> None:
    _decide_with(lambda request: replace(request, merge_back=False) if request.side_request else request)


def _card_without(capability_name: str) -> None:
    from rolemodel.v1 import card_pb2
    from rolemodel_router.core import RouterCore

    dropped = card_pb2.RouterCapability.Value(capability_name)

    def make(original: Any) -> Any:
        async def card(self: Any) -> Any:
            shown = await original(self)
            kept = [c for c in shown.capabilities if c != dropped]
            del shown.capabilities[:]
            shown.capabilities.extend(kept)
            return shown

        return card

    wrap(RouterCore, "card", make)


def side_requests_unclaimed_but_served() -> None:
    _card_without("ROUTER_CAPABILITY_SIDE_REQUESTS")


def force_level_unclaimed_but_served() -> None:
    _card_without("ROUTER_CAPABILITY_ESCALATION")


def refuses_claimed_dry_run() -> None:
    from rolemodel.v1 import card_pb2
    from rolemodel_router.core import RouterCore

    def make(original: Any) -> Any:
        def mutated(self: Any, capability: Any) -> None:
            if capability == card_pb2.ROUTER_CAPABILITY_DRY_RUN:
                saved = self.capabilities
                self.capabilities = tuple(c for c in saved if c != capability)
                try:
                    original(self, capability)
                finally:
                    self.capabilities = saved
            original(self, capability)

        return mutated

    wrap(RouterCore, "_require", make)


def fingerprint_ignores_usage() -> None:
    from rolemodel.v1 import outcome_pb2
    from rolemodel_router.engine import outcome

    def make(original: Any) -> Any:
        def mutated(report: Any) -> bytes:
            bare = outcome_pb2.Outcome()
            bare.CopyFrom(report)
            bare.ClearField("usage")
            return bytes(original(bare))

        return mutated

    wrap(outcome, "fingerprint", make)


def ascii_only_digests() -> None:
    from rolemodel.v1 import conversation_pb2
    from rolemodel_router.engine import conversation_input

    def make(original: Any) -> Any:
        def mutated(previous: bytes, message: Any) -> bytes:
            folded = conversation_pb2.Message()
            folded.CopyFrom(message)
            for part in folded.parts:
                if part.HasField("text"):
                    part.text.text = part.text.text.encode("ascii", "ignore").decode()
            return bytes(original(previous, folded))

        return mutated

    wrap(conversation_input, "chain", make)


def pin_ignores_deny_rules() -> None:
    from rolemodel_router.engine import eligibility

    def make(original: Any) -> Any:
        def mutated(index: Any, request: Any) -> Any:
            return [] if request.pinned else original(index, request)

        return mutated

    wrap(eligibility, "matching_deny_rules", make)


def _m(name: str, violation: str, expect: str, run: tuple[str, ...], patch: Any) -> Mutant:
    return Mutant(name, violation, expect, run, patch)


TWO_SIDED: dict[str, Mutant] = {
    m.name: m
    for m in (
        _m("exhausted_always", "every quota state says exhausted", "RM-QUOTA-003", ("RM-QUOTA-003",), exhausted_always),
        _m(
            "empty_window_resets_now",
            "an empty window frees capacity 'now' instead of a window's length later",
            "RM-QUOTA-003",
            ("RM-QUOTA-003",),
            empty_window_resets_now,
        ),
        _m(
            "main_turn_isolated",
            "main turns are marked as not merging back",
            "RM-ROUTE-011",
            ("RM-ROUTE-011",),
            main_turn_isolated,
        ),
        _m(
            "cache_warm_everywhere",
            "CACHE_WARM on every decision, cached tokens or not",
            "RM-ROUTE-042",
            ("RM-ROUTE-042",),
            cache_warm_everywhere,
        ),
        _m(
            "digest_index_one_based",
            "DIGEST_MISMATCH names the message 1-based",
            "RM-CONV-002",
            ("RM-CONV-002",),
            digest_index_one_based,
        ),
        _m(
            "endpoint_before_role",
            "an unknown pinned endpoint wins over an unknown role",
            "RM-HINT-001",
            ("RM-HINT-001",),
            endpoint_before_role,
        ),
        _m(
            "quota_admits_one_more",
            "a window admits one request past its limit",
            "RM-QUOTA-001",
            ("RM-QUOTA-001",),
            quota_admits_one_more,
        ),
        _m(
            "quota_refuses_one_early",
            "a window refuses its last request",
            "RM-QUOTA-001",
            ("RM-QUOTA-001",),
            quota_refuses_one_early,
        ),
        _m(
            "unknown_role_unnamed",
            "UNKNOWN_ROLE does not name the role in its metadata",
            "RM-HINT-001",
            ("RM-HINT-001",),
            unknown_role_unnamed,
        ),
        _m(
            "unknown_endpoint_misnamed",
            "UNKNOWN_ENDPOINT names another endpoint than the unknown one",
            "RM-HINT-005",
            ("RM-HINT-005",),
            unknown_endpoint_misnamed,
        ),
        _m(
            "reused_key_unnamed",
            "IDEMPOTENCY_KEY_REUSED does not name the key",
            "RM-OUT-006",
            ("RM-OUT-006",),
            reused_key_unnamed,
        ),
        _m(
            "ttl_expires_early",
            "cache entries expire a second before their expiry",
            "RM-CACHE-003",
            ("RM-CACHE-003",),
            ttl_expires_early,
        ),
        _m(
            "ttl_expires_late",
            "cache entries live a second past their expiry",
            "RM-CACHE-003",
            ("RM-CACHE-003",),
            ttl_expires_late,
        ),
        _m(
            "escalates_on_success",
            "a success escalates like a failure",
            "RM-ESC-001",
            ("RM-ESC-001",),
            escalates_on_success,
        ),
        _m(
            "merged_side_request_isolated",
            "a side request with merge-back is treated as isolated",
            "RM-SIDE-004",
            ("RM-SIDE-004",),
            merged_side_request_isolated,
        ),
        _m(
            "side_requests_unclaimed_but_served",
            "the card does not claim SIDE_REQUESTS, yet side requests are served",
            "RM-CORE-003",
            ("RM-CORE-003",),
            side_requests_unclaimed_but_served,
        ),
        _m(
            "force_level_unclaimed_but_served",
            "the card does not claim ESCALATION, yet forced levels are served",
            "RM-CORE-003",
            ("RM-CORE-003",),
            force_level_unclaimed_but_served,
        ),
        _m(
            "refuses_claimed_dry_run",
            "DRY_RUN is claimed but refused as unsupported",
            "RM-CARD-006",
            ("RM-CARD-006",),
            refuses_claimed_dry_run,
        ),
        _m(
            "fingerprint_ignores_usage",
            "an outcome reusing a key with other usage is taken for a replay",
            "RM-OUT-006",
            ("RM-OUT-006",),
            fingerprint_ignores_usage,
        ),
        _m(
            "ascii_only_digests",
            "digests are verified over the ASCII letters of the text only",
            "RM-CONV-002",
            ("RM-CONV-002",),
            ascii_only_digests,
        ),
        _m(
            "pin_ignores_deny_rules",
            "a pinned endpoint escapes the deny rules",
            "RM-ELIG-005",
            ("RM-ELIG-005",),
            pin_ignores_deny_rules,
        ),
    )
}
