"""What an Execute call writes back: its outcome, as a client would report it, and failed attempts.

RM-EXEC-003 asks the router to record an executed decision "as if the client had reported it", so
the outcome goes through the same ReportOutcome path, with an idempotency key derived from the
decision; a failed attempt that is not the reported one updates only its endpoint's health.
"""

from __future__ import annotations

from dataclasses import replace

from rolemodel.dialects.canonical import Completion, ServerTimings
from rolemodel.tokens import estimate_message_tokens
from rolemodel.usage_headers import UsageReport, WindowLength
from rolemodel.v1 import catalog_pb2, conversation_pb2, outcome_pb2
from rolemodel_router.engine.health import record_attempt
from rolemodel_router.execute.failures import AttemptFailure
from rolemodel_router.state.model import EndpointHealth
from rolemodel_router.state.store import StateStore


def idempotency_key(decision_id: str) -> str:
    """The key Execute reports under: one per decision, so a repeated recording is a replay."""
    return f"execute:{decision_id}"


#: Fewer uncached tokens than this say more about fixed costs than about the prefill speed (spec 10.4).
MIN_MEASURED_PREFILL_TOKENS = 64
#: Fewer output tokens than this say little about the decoding speed.
MIN_MEASURED_OUTPUT_TOKENS = 8


def usage_from_timings(completion: Completion) -> outcome_pb2.Usage | None:
    """The usage a llama.cpp server reported, its cache counted from ``timings`` when the usage lacks it.

    ``cache_n`` is the server's own count of prompt tokens it took from the slot's cache, so it
    fills ``cache_read_tokens`` when the usage reports none; without a usage the whole usage
    comes from the timings (``cache_n + prompt_n`` prompt tokens, ``predicted_n`` output tokens).
    """
    usage, timings = completion.usage, completion.timings
    if timings is None:
        return usage
    if usage is None:
        return outcome_pb2.Usage(
            input_tokens=timings.cached_tokens + timings.prefilled_tokens,
            cache_read_tokens=timings.cached_tokens,
            output_tokens=timings.output_tokens,
        )
    if not usage.cache_read_tokens and timings.cached_tokens:
        filled = outcome_pb2.Usage()
        filled.CopyFrom(usage)
        filled.cache_read_tokens = min(timings.cached_tokens, usage.input_tokens)
        return filled
    return usage


def add_measured_speeds(outcome: outcome_pb2.Outcome, timings: ServerTimings | None) -> None:
    """Report the server's measured prefill and output speeds on the outcome (spec 9.5 and 10.4)."""
    if timings is None:
        return
    if timings.prefilled_tokens >= MIN_MEASURED_PREFILL_TOKENS and timings.prefill_tokens_per_second > 0:
        outcome.prefill_tokens_per_second = timings.prefill_tokens_per_second
    if timings.output_tokens >= MIN_MEASURED_OUTPUT_TOKENS and timings.output_tokens_per_second > 0:
        outcome.output_tokens_per_second = timings.output_tokens_per_second


def usage_or_estimate(
    usage: outcome_pb2.Usage | None, prompt_tokens: int, message: conversation_pb2.Message
) -> tuple[outcome_pb2.Usage, bool]:
    """The provider's usage, or the normative estimate when it reported none; and whether it was estimated."""
    if usage is not None and usage.input_tokens:
        return usage, False
    output = usage.output_tokens if usage is not None and usage.output_tokens else estimate_message_tokens(message)
    return outcome_pb2.Usage(input_tokens=prompt_tokens, output_tokens=output), True


async def record_failed_attempt(
    store: StateStore, endpoint_id: str, failure: AttemptFailure, now_ms: int, *, count: bool = True
) -> None:
    """A failure before the first token counts against the endpoint, and a Retry-After holds it off (RM-EXEC-014).

    ``count=False`` applies only the hold, for the attempt whose outcome is reported (the outcome
    itself counts the failure).
    """
    if not failure.blames_endpoint:
        return
    hold_until = now_ms + round(failure.retry_after_s * 1000) if failure.retry_after_s else 0
    if not count and not hold_until:
        return

    def update(health: EndpointHealth) -> EndpointHealth:
        after = record_attempt(health, failed=True, ttft_ms=0, now_ms=now_ms) if count else health
        if hold_until > after.cooldown_until_ms:
            after = replace(after, cooldown_until_ms=hold_until)
        return after

    await store.record_health(endpoint_id, update)


_WINDOWS = {WindowLength.SHORT: catalog_pb2.USAGE_WINDOW_SHORT, WindowLength.LONG: catalog_pb2.USAGE_WINDOW_LONG}


def usage_window_reports(reports: list[UsageReport]) -> list[outcome_pb2.UsageWindowReport]:
    """The provider's usage-window headers as the outcome field a client would fill (spec 9.8)."""
    out = []
    for report in reports:
        item = outcome_pb2.UsageWindowReport(window=_WINDOWS[report.window], used_share=report.used)
        item.resets_at.FromMilliseconds(report.resets_at_ms)
        out.append(item)
    return out
