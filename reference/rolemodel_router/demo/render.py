"""What the demo prints: one block per turn as it happens, then a table and what it all cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rolemodel.money import format_picos
from rolemodel.v1 import decision_pb2
from rolemodel_router.demo.session import TurnResult

#: The endpoint the summary compares with: what the session would cost if every turn went there.
PREMIUM = "claude-opus-4-5"
#: Reasons worth a line in the per-turn view; the full list is in --json and `rolemodel route`.
_NOTABLE = {
    "TIER_FROM_DIFFICULTY",
    "ESCALATED",
    "AFFINITY_KEPT",
    "AFFINITY_SWITCHED_SAVING",
    "AFFINITY_CURRENT_INELIGIBLE",
    "CACHE_WARM",
    "HANDOFF_TRANSFORMED",
    "STRATEGY_BEST",
}


def _money(picos: int) -> str:
    return format_picos(picos, "USD")


def turn_block(result: TurnResult, names: dict[str, str]) -> Text:
    turn = result.turn
    text = Text()
    text.append(f"Turn {result.number}", style="bold")
    text.append(f"  {turn.role}  ", style="cyan")
    text.append(f"{turn.user}\n", style="italic")
    text.append(f"  shows: {turn.shows}\n", style="dim")
    for number, failed in enumerate(result.failed_attempts, start=1):
        # The stream names each attempt's endpoint: the next one is read from it, not guessed from the fallbacks.
        after = result.attempts[number] if number < len(result.attempts) else ""
        then = f"the router tries {after} next" if after else "no fallback was left"
        text.append(f"  ✗ {failed} failed before its first token; {then}\n", style="yellow")
    if result.error:
        text.append(f"  ✗ {result.error}\n", style="red")
        return text
    text.append("  → ")
    text.append(result.served, style="bold green")
    text.append(f" ({names.get(result.served, result.served)})\n")
    text.append(
        f"  prompt {result.prompt_tokens:,} tokens, cached {result.cached_tokens:,} "
        f"(expected {result.expected_cached_tokens:,})"
        + (f", written to cache {result.cache_write_tokens:,}" if result.cache_write_tokens else "")
        + f"; cost {_money(result.reported_picos)} (estimated {_money(result.estimated_picos)})"
        + f"; first token after {result.ttft_ms} ms\n"
    )
    chosen = result.decision.chosen_endpoint_id
    if result.served and result.served != chosen:
        on = f" on attempt {len(result.attempts)}" if result.attempts else ""
        text.append(
            f"  the router chose {chosen}; {result.served} answered{on}, as a fallback. Why it chose {chosen}:\n",
            style="dim",
        )
    for reason in result.decision.reasons:
        short = decision_pb2.ReasonCode.Name(reason.code).removeprefix("REASON_CODE_")
        if short in _NOTABLE:
            text.append(f"  why: {short.lower()}: ", style="bold")
            text.append(f"{reason.detail}\n")
    if result.escalation_level is not None:
        text.append(
            f"  the client reports the tests failed (TASK_FAILED): escalation level is now {result.escalation_level}\n",
            style="magenta",
        )
    return text


def summary_table(results: Sequence[TurnResult]) -> Table:
    table = Table(
        title="The session",
        title_justify="left",
        header_style="bold",
        caption=f"if all on {PREMIUM}: what each turn would have cost on the most expensive model, with its own "
        "prompt cache, as the router estimated it for that turn",
        caption_justify="left",
    )
    for column in ("turn", "role", "served by", "prompt", "cached", "cost", f"if all on {PREMIUM}"):
        table.add_column(column, justify="right" if column in ("turn", "prompt", "cached", "cost") else "left")
    for r in results:
        table.add_row(
            str(r.number),
            r.turn.role,
            r.served or "failed",
            f"{r.prompt_tokens:,}",
            f"{r.cached_tokens:,}",
            _money(r.reported_picos),
            _money(r.candidate_cost(PREMIUM)),
        )
    total = sum(r.reported_picos for r in results)
    premium = sum(r.candidate_cost(PREMIUM) for r in results)
    table.add_row("", "", "total", "", "", _money(total), _money(premium), style="bold")
    return table


def as_json(results: Sequence[TurnResult]) -> list[dict[str, Any]]:
    return [
        {
            "turn": r.number,
            "role": r.turn.role,
            "shows": r.turn.shows,
            "decision_id": r.decision.decision_id,
            "chosen": r.decision.chosen_endpoint_id,
            "served": r.served,
            "attempts": r.attempts,
            "failed_attempts": r.failed_attempts,
            "reasons": r.reasons,
            "prompt_tokens": r.prompt_tokens,
            "cached_tokens": r.cached_tokens,
            "expected_cached_tokens": r.expected_cached_tokens,
            "cache_write_tokens": r.cache_write_tokens,
            "estimated_picos": r.estimated_picos,
            "reported_picos": r.reported_picos,
            "premium_estimate_picos": r.candidate_cost(PREMIUM),
            "escalation_level_after_verdict": r.escalation_level,
            "error": r.error,
        }
        for r in results
    ]


def print_turn(console: Console, result: TurnResult, names: dict[str, str]) -> None:
    console.print(turn_block(result, names))
