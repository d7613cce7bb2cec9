"""Decisions and cards as text a person can read."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rolemodel.money import format_picos
from rolemodel.v1 import card_pb2, catalog_pb2, common_pb2, decision_pb2

D = decision_pb2


def _name(enum: object, value: int, prefix: str) -> str:
    name: str = enum.Name(value)  # type: ignore[attr-defined]
    return name.removeprefix(prefix).lower()


def _money(picos: int, currency: str) -> str:
    return format_picos(picos, currency or "USD")


def counted(number: int, noun: str) -> str:
    """'1 role', '8 roles': a count as a person writes it (nouns whose plural adds an s)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def catalog_size(catalog: catalog_pb2.Catalog) -> str:
    """What check-catalog and init report of a valid catalog: its endpoints and roles, counted."""
    return f"{counted(len(catalog.endpoints), 'endpoint')}, {counted(len(catalog.roles), 'role')}"


def candidates_table(decision: D.Decision) -> Table:
    """Every candidate, best first: the ranked ones by rank, then the excluded ones in catalog order."""
    horizons = {c.cost.horizon_turns for c in decision.candidates if c.HasField("cost")}
    horizon = horizons.pop() if len(horizons) == 1 else None
    amortised = f"next {horizon} turns" if horizon else "amortised"
    table = Table(
        title="Candidates",
        title_justify="left",
        header_style="bold",
        caption=f"{amortised}: this turn plus the following ones on that endpoint, counting the cache this turn "
        "leaves there (spec 7.5); cheaper later turns are why a warm endpoint can win. score: higher is better, "
        "by the strategy.",
        caption_justify="left",
    )
    for column in ("rank", "endpoint", "tier", "cached/prompt", "this turn", amortised, "score", "excluded by"):
        table.add_column(column, justify="right" if column in ("rank", "tier", "score") else "left", no_wrap=True)
    ordered = sorted(decision.candidates, key=lambda c: (c.rank == 0, c.rank))
    for c in ordered:
        cost = c.cost
        money = cost.currency
        excluded = ", ".join(_name(D.ExclusionCode, e.code, "EXCLUSION_CODE_") for e in c.exclusions)
        style = "bold green" if c.rank == 1 else ("" if c.eligible else "dim")
        costed = c.HasField("cost")
        table.add_row(
            str(c.rank) if c.rank else "",
            c.endpoint_id,
            str(c.tier) if c.HasField("tier") else "-",
            f"{cost.cached_tokens:,}/{cost.prompt_tokens:,}" if costed else "",
            _money(cost.total_picos, money) if costed else "",
            (_money(cost.amortized_picos, money) + ("" if horizon else f" over {cost.horizon_turns}"))
            if costed
            else "",
            f"{c.score.total:.3f}" if c.HasField("score") else "",
            excluded,
            style=style,
        )
    return table


def exclusions_text(decision: D.Decision) -> Text:
    """Why each endpoint of the role's ladder (or the pin) was excluded, in full."""
    text = Text()
    for c in decision.candidates:
        if not c.exclusions or not c.HasField("tier"):
            continue
        for e in c.exclusions:
            text.append(f"{c.endpoint_id}: ", style="bold")
            text.append(f"{_name(D.ExclusionCode, e.code, 'EXCLUSION_CODE_')}: {e.detail}\n")
    return text


def decision_text(decision: D.Decision) -> Group:
    """The explanation `rolemodel route` prints."""
    plan = decision.handoff
    chosen = next((c for c in decision.candidates if c.endpoint_id == decision.chosen_endpoint_id), None)
    money = chosen.cost.currency if chosen is not None else "USD"
    head = Text()
    head.append(f"{decision.role}", style="bold")
    head.append(" -> ")
    head.append(decision.chosen_endpoint_id, style="bold green")
    if chosen is not None and chosen.HasField("cost"):
        head.append(
            f"   {_money(chosen.cost.total_picos, money)} this turn, {chosen.cost.cached_tokens:,} tokens cached"
        )
    fallbacks = ", ".join(decision.fallback_endpoint_ids) or "none"
    head.append(f"\nfallbacks: {fallbacks}")
    head.append(
        f"\ndecision {decision.decision_id}, conversation {decision.conversation_id} turn {decision.turn_index}"
    )
    if decision.dry_run:
        head.append("  (dry run: nothing recorded)", style="yellow")
    reasons = Text()
    for i, reason in enumerate(decision.reasons, start=1):
        reasons.append(f"{i}. {_name(D.ReasonCode, reason.code, 'REASON_CODE_')}: ", style="bold")
        reasons.append(f"{reason.detail}\n")
    handoff = Text(
        f"{_name(D.HandoffAction, plan.action, 'HANDOFF_ACTION_')}"
        + (f" from {plan.from_endpoint_id}" if plan.from_endpoint_id else "")
        + f" to {plan.to_endpoint_id}: {plan.cached_prefix_tokens:,} cached, {plan.uncached_tokens:,} uncached"
        + (f", {plan.cache_write_tokens:,} written to the cache" if plan.cache_write_tokens else "")
        + ("" if plan.merge_back else "; does not merge back")
    )
    parts: list[object] = [
        Panel(head, title="Decision", title_align="left"),
        Panel(reasons, title="Why", title_align="left"),
        candidates_table(decision),
    ]
    excluded = exclusions_text(decision)
    if excluded.plain:
        parts.append(Panel(excluded, title="Excluded from the role's ladder", title_align="left"))
    parts.append(Panel(handoff, title="Handoff", title_align="left"))
    if decision.quota_states:
        quotas = Table(title="Quotas", title_justify="left", header_style="bold")
        for column in ("quota", "endpoint", "used", "remaining", "resets at"):
            quotas.add_column(column)
        for q in decision.quota_states:
            used = f"{q.used.requests} req / {q.used.tokens:,} tok / {_money(q.used.cost_picos, money)}"
            left = f"{q.remaining.requests} req / {q.remaining.tokens:,} tok / {_money(q.remaining.cost_picos, money)}"
            quotas.add_row(q.quota_id, q.endpoint_id, used, left, q.resets_at.ToJsonString())
        parts.append(quotas)
    return Group(*parts)  # type: ignore[arg-type]


def card_text(card: card_pb2.RouterCard) -> Group:
    head = Text(
        f"{card.router_name} {card.router_version}, protocol {', '.join(card.supported_versions)}, "
        f"catalog '{card.catalog_name}'\ncapabilities: "
        + ", ".join(_name(card_pb2.RouterCapability, c, "ROUTER_CAPABILITY_") for c in card.capabilities)
    )
    endpoints = Table(title="Endpoints", title_justify="left", header_style="bold")
    for column in ("endpoint", "model", "locality", "window", "input $/Mtok", "cached", "output", "caching", "status"):
        endpoints.add_column(column)
    for profile in card.endpoints:
        e = profile.endpoint
        status = "cooling down" if profile.status.HasField("cooldown_until") else "ok"
        endpoints.add_row(
            e.id,
            e.model,
            _name(common_pb2.Locality, e.locality, "LOCALITY_"),
            f"{e.context_window_tokens:,}",
            e.pricing.input_per_mtok,
            e.pricing.cache_read_per_mtok or "-",
            e.pricing.output_per_mtok,
            f"{_name(catalog_pb2.CacheMode, e.caching.mode, 'CACHE_MODE_')}, ttl {e.caching.ttl_seconds}s"
            if e.caching.mode
            else "none",
            status,
        )
    roles = Table(title="Roles", title_justify="left", header_style="bold")
    for column in ("role", "ladder (cheapest first)", "strategy", "escalates on"):
        roles.add_column(column)
    for role in card.roles:
        ladder = " | ".join((f"{t.name}: " if t.name else "") + ", ".join(t.endpoint_ids) for t in role.ladder)
        escalates = ", ".join(_name(common_pb2.OutcomeClass, o, "OUTCOME_CLASS_") for o in role.escalation.escalate_on)
        roles.add_row(
            role.name, ladder, _name(common_pb2.Strategy, role.default_strategy, "STRATEGY_"), escalates or "-"
        )
    return Group(Panel(head, title="Router", title_align="left"), endpoints, roles)


def command_name() -> str:
    """How the user can run ``rolemodel`` again: the bare name when it is on PATH, else the path they used.

    After the quick start the venv is not activated, so ``rolemodel`` alone is not found; a hint that
    says ``.venv/bin/rolemodel route ...`` works when pasted.
    """
    invoked = Path(sys.argv[0])
    if invoked.name != "rolemodel":
        return "rolemodel"
    found = shutil.which("rolemodel")
    if found is not None and Path(found).resolve() == invoked.resolve():
        return "rolemodel"
    return str(invoked)


def console(stderr: bool = False) -> Console:
    """A console at least 120 columns wide, so that tables stay readable when piped."""
    probe = Console(stderr=stderr)
    return Console(stderr=stderr, width=max(probe.width, 120) if not probe.is_terminal else probe.width)
