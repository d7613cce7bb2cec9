"""What a turn would have cost had the conversation always used one endpoint.

The savings the dashboard shows compare the router's choices with two simple policies: always
the role's premium endpoint, and always the cheapest capable one. A fair comparison gives each
policy its own prompt cache: had every turn gone to the premium model, the premium model would
hold the previous turn's prompt (and its reply, where its cache keeps replies) as long as the
turn came within its cache TTL. Pricing the premium candidate with the router's real cache state
instead would charge the baseline for cold starts it would never have had, and inflate savings.

The counterfactual follows :mod:`rolemodel.cost` (spec chapter 7): the held prefix is rounded to
the endpoint's granularity and ignored below its minimum, explicit caches pay for the write.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel.cost import EndpointEconomics, cacheable_tokens, turn_cost


@dataclass(frozen=True)
class PreviousTurn:
    """The last main turn of a conversation: what an always-X policy would have cached."""

    prompt_tokens: int
    output_tokens: int
    at_ms: int


def baseline_turn_picos(
    economics: EndpointEconomics, prompt_tokens: int, output_tokens: int, at_ms: int, previous: PreviousTurn | None
) -> int:
    """The turn's cost on an endpoint that served every earlier turn of the conversation."""
    held = 0
    if previous is not None and economics.caches and at_ms - previous.at_ms < economics.ttl_seconds * 1000:
        held = previous.prompt_tokens + (previous.output_tokens if economics.includes_output else 0)
    cached = cacheable_tokens(economics, min(held, prompt_tokens))
    return turn_cost(economics, prompt_tokens, cached, output_tokens).total_picos
