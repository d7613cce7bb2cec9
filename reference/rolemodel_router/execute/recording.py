"""What an Execute call writes back: its outcome, as a client would report it, and failed attempts.

RM-EXEC-003 asks the router to record an executed decision "as if the client had reported it", so
the outcome goes through the same ReportOutcome path, with an idempotency key derived from the
decision; a failed attempt that is not the reported one updates only its endpoint's health.
"""

from __future__ import annotations

from dataclasses import replace

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
