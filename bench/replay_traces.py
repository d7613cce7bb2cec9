"""Replay real agent conversations through the router and price them with real caching rules.

The conversations are the 200 tau-bench airline trajectories (GPT-4o outputs,
OpenAI message format, MIT licence) from the shared data folder. Every
assistant message is one model call whose prompt is everything before it.
Two endpoints at public list prices: GPT-5 (premium) and GPT-5 mini (cheap),
both with OpenAI's automatic prompt caching (from 1,024 tokens in 128-token
steps, entries living 5 minutes). Turns are spaced like a real session: a
user thinks for seconds to a minute, a tool answers in a second or two, and,
in the "with pauses" set, one user turn in six waits 6 to 20 minutes, longer
than the cache lives. Each turn carries a difficulty signal in [0, 1]
(deterministic per turn), the same for every policy.

Policies, all priced by the same provider simulation (what each endpoint
really holds in its cache, turn by turn):
    router          the reference router in-process, with a premium-share
                    target, affinity and tool-loop pinning, fed the outcomes
    always_premium  every turn on GPT-5
    always_cheap    every turn on GPT-5 mini
    oblivious       premium exactly when the difficulty is in the top share,
                    at the same premium share as the router, ignoring caches

    python bench/replay_traces.py [--data-dir DIR] [--json FILE] [--plot FILE]

Target (issue 4): at the same premium share, the router costs no more than
the cache-oblivious router on every trace set.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.shared_data import shared_data_dir
from rolemodel import cost
from rolemodel.dialects.openai_chat.messages import decode_messages
from rolemodel.digest import digest_chain
from rolemodel.tokens import estimate_message_tokens
from rolemodel.v1 import common_pb2, conversation_pb2, hints_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import parse_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.state.in_process import InProcessStore

DEFAULT_DATA = shared_data_dir()
TRACES = Path("traces") / "tau-bench-gpt-4o-airline.json"
ROLE = "x-replay.agent"
PREMIUM, CHEAP = "gpt-5", "gpt-5-mini"
OPENAI_CACHE = {
    "mode": "CACHE_MODE_AUTOMATIC",
    "min_cacheable_tokens": 1024,
    "granularity_tokens": 128,
    "ttl_seconds": 300,
    "refresh_on_hit": True,
}


def catalog(target_share: float) -> dict[str, Any]:
    """GPT-5 and GPT-5 mini at their public prices, one agent role with a premium-share target."""

    def endpoint(eid: str, price_in: str, price_out: str, cached: str, quality: float) -> dict[str, Any]:
        return {
            "id": eid,
            "provider_kind": "PROVIDER_KIND_OPENAI",
            "model": eid,
            "locality": "LOCALITY_REMOTE",
            "capabilities": ["CAPABILITY_TOOLS", "CAPABILITY_STREAMING"],
            "context_window_tokens": 400000,
            "max_output_tokens": 128000,
            "pricing": {
                "currency": "USD",
                "input_per_mtok": price_in,
                "output_per_mtok": price_out,
                "cache_read_per_mtok": cached,
            },
            "caching": OPENAI_CACHE,
            "default_quality": quality,
        }

    return {
        "name": "replay",
        "endpoints": [endpoint(PREMIUM, "1.25", "10", "0.125", 0.9), endpoint(CHEAP, "0.25", "2", "0.025", 0.75)],
        "roles": [
            {
                "name": ROLE,
                "ladder": [{"endpoint_ids": [CHEAP]}, {"endpoint_ids": [PREMIUM], "min_difficulty": 1 - target_share}],
                "default_strategy": "STRATEGY_COST",
                "affinity": {
                    "min_saving": "0.0005",
                    "min_saving_ratio": 0.1,
                    "horizon_turns": 4,
                    "tool_loop": "TOOL_LOOP_POLICY_PIN",
                },
            }
        ],
        "policies": {"premium_share_targets": [{"role": ROLE, "target_share": target_share, "window_requests": 200}]},
    }


@dataclass(frozen=True)
class Turn:
    """One model call: the prompt is messages[:index], the reply is messages[index]."""

    conversation: int
    index: int
    at_ms: int
    difficulty: float
    tool_loop: bool


@dataclass
class Conversation:
    messages: list[conversation_pb2.Message]
    digests: list[bytes]
    cumulative: list[int]

    def tokens(self, index: int) -> int:
        return self.cumulative[index] - (self.cumulative[index - 1] if index else 0)


def load(path: Path) -> list[Conversation]:
    conversations = []
    for trajectory in json.loads(path.read_text()):
        messages = decode_messages(trajectory["traj"])
        cumulative, running = [], 0
        for message in messages:
            running += estimate_message_tokens(message)
            cumulative.append(running)
        conversations.append(Conversation(messages, digest_chain(messages), cumulative))
    return conversations


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) for the given parts (the turn's difficulty signal)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def schedule(conversations: list[Conversation], pauses: bool, seed: int = 11) -> list[Turn]:
    """Every model call of every conversation, on one clock, in time order."""
    rng = random.Random(seed)
    turns = []
    for ci, conv in enumerate(conversations):
        now = rng.randint(0, 3_600_000)
        for i, message in enumerate(conv.messages):
            if message.role != conversation_pb2.MESSAGE_ROLE_ASSISTANT or i == 0:
                continue
            before = conv.messages[i - 1].role
            if before == conversation_pb2.MESSAGE_ROLE_TOOL:
                now += rng.randint(800, 3_000)
            elif pauses and rng.random() < 1 / 6:
                now += rng.randint(360_000, 1_200_000)
            else:
                now += int(rng.lognormvariate(math.log(20_000), 0.6))
            turns.append(Turn(ci, i, now, _unit("difficulty", ci, i), before == conversation_pb2.MESSAGE_ROLE_TOOL))
            now += 2_000  # the model's own answer takes a moment
    return sorted(turns, key=lambda t: t.at_ms)


@dataclass
class Ledger:
    """What a policy's choices cost, priced by the provider simulation."""

    cost_picos: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    premium: int = 0
    turns: int = 0
    switches: int = 0
    last: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int]:
        return {
            "cost_usd": round(self.cost_picos / 1e12, 4),
            "premium_share": round(self.premium / self.turns, 4),
            "cache_hit_ratio": round(self.cached_tokens / self.prompt_tokens, 4),
            "switches": self.switches,
            "turns": self.turns,
        }


class Provider:
    """Each endpoint's prompt cache per conversation, as OpenAI's automatic caching behaves."""

    def __init__(self, index: CatalogIndex) -> None:
        self.economics = {eid: index.endpoints[eid].economics for eid in (PREMIUM, CHEAP)}
        self.held: dict[tuple[int, str], tuple[int, int]] = {}  # -> (messages held, expiry)

    def call(self, conv: Conversation, turn: Turn, endpoint: str, ledger: Ledger) -> outcome_pb2.Usage:
        econ = self.economics[endpoint]
        prompt = conv.cumulative[turn.index - 1]
        held, expires = self.held.get((turn.conversation, endpoint), (0, 0))
        matched = conv.cumulative[min(held, turn.index) - 1] if held and turn.at_ms < expires else 0
        cached = cost.cacheable_tokens(econ, matched)
        output = conv.tokens(turn.index)
        priced = cost.turn_cost(econ, prompt, cached, output)
        if prompt >= econ.min_cacheable_tokens:
            self.held[(turn.conversation, endpoint)] = (turn.index, turn.at_ms + econ.ttl_seconds * 1000)
        ledger.cost_picos += priced.total_picos
        ledger.prompt_tokens += prompt
        ledger.cached_tokens += cached
        ledger.premium += endpoint == PREMIUM
        ledger.turns += 1
        previous = ledger.last.get(turn.conversation)
        ledger.switches += previous is not None and previous != endpoint
        ledger.last[turn.conversation] = endpoint
        return outcome_pb2.Usage(input_tokens=prompt, cache_read_tokens=cached, output_tokens=output)


def _request(conv: Conversation, turn: Turn) -> router_service_pb2.RouteRequest:
    refs = [conversation_pb2.MessageRef(digest=conv.digests[i], token_count=conv.tokens(i)) for i in range(turn.index)]
    return router_service_pb2.RouteRequest(
        conversation=conversation_pb2.ConversationRef(
            conversation_id=f"tau-{turn.conversation}",
            turn_index=turn.index,
            messages=refs,
            tool_call_pending=turn.tool_loop,
        ),
        hints=hints_pb2.RoutingHints(role=ROLE, difficulty=turn.difficulty, expected_output_tokens=150),
    )


async def replay_router(conversations: list[Conversation], turns: list[Turn], target: float) -> Ledger:
    index = CatalogIndex(parse_catalog(catalog(target), "replay"))
    clock = {"now": 0}
    core = RouterCore(index, InProcessStore(quotas=index.quotas), clock=lambda: clock["now"])
    provider, ledger = Provider(index), Ledger()
    for n, turn in enumerate(turns):
        clock["now"] = turn.at_ms
        conv = conversations[turn.conversation]
        decision = await core.route(core.validate_route(_request(conv, turn)))
        usage = provider.call(conv, turn, decision.chosen_endpoint_id, ledger)
        outcome = outcome_pb2.Outcome(
            decision_id=decision.decision_id,
            served_endpoint_id=decision.chosen_endpoint_id,
            usage=usage,
            outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS,
            idempotency_key=f"k{n}",
        )
        await core.report(outcome)
    return ledger


def replay_fixed(conversations: list[Conversation], turns: list[Turn], choose: Any) -> Ledger:
    index = CatalogIndex(parse_catalog(catalog(0.5), "replay"))
    provider, ledger = Provider(index), Ledger()
    for turn in turns:
        provider.call(conversations[turn.conversation], turn, choose(turn), ledger)
    return ledger


def compare(conversations: list[Conversation], turns: list[Turn], target: float) -> dict[str, dict[str, float | int]]:
    router = asyncio.run(replay_router(conversations, turns, target))
    share = router.premium / router.turns
    ordered = sorted(t.difficulty for t in turns)
    threshold = ordered[min(len(ordered) - 1, int((1 - share) * len(ordered)))] if share > 0 else 2.0
    return {
        "router": router.summary(),
        "always_premium": replay_fixed(conversations, turns, lambda t: PREMIUM).summary(),
        "always_cheap": replay_fixed(conversations, turns, lambda t: CHEAP).summary(),
        "oblivious": replay_fixed(
            conversations, turns, lambda t: PREMIUM if t.difficulty >= threshold else CHEAP
        ).summary(),
    }


def plot(sweep: dict[str, list[dict[str, Any]]], path: Path) -> None:
    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, len(sweep), sharey=True)
    for ax, (name, points) in zip(axes, sweep.items(), strict=True):
        for policy, style in (("router", "o-"), ("oblivious", "s--")):
            xs = [p[policy]["premium_share"] for p in points]
            ys = [p[policy]["cost_usd"] for p in points]
            ax.plot(xs, ys, style, label=policy)
        ax.set_title(f"tau-bench airline, {name}")
        ax.set_xlabel("premium share (GPT-5)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cost of 200 conversations (USD)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument(
        "--target", type=float, default=0.3, help="premium share target of the router (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--plot", type=Path, help="write a PNG of cost against premium share, sweeping the target")
    args = parser.parse_args()
    source = args.data_dir / TRACES
    if not source.exists():
        print(f"{source} is absent: the replay needs the tau-bench traces; nothing to do.")
        return
    conversations = load(source)
    trace_sets = {
        "interactive": schedule(conversations, pauses=False),
        "with pauses": schedule(conversations, pauses=True),
    }
    results: dict[str, Any] = {"trace_sets": {}}
    with Progress(transient=True) as progress:
        task = progress.add_task("replaying", total=len(trace_sets))
        for name, turns in trace_sets.items():
            results["trace_sets"][name] = {"policies": compare(conversations, turns, args.target)}
            progress.advance(task)
    results["policies"] = results["trace_sets"]["with pauses"]["policies"]
    table = Table(title=f"{len(conversations)} tau-bench conversations, router target share {args.target}")
    for column in ("trace set", "policy", "cost USD", "premium share", "cache hit ratio", "switches"):
        table.add_column(column, justify="right")
    for name, data in results["trace_sets"].items():
        for policy, r in data["policies"].items():
            table.add_row(
                name,
                policy,
                f"{r['cost_usd']:.3f}",
                f"{r['premium_share']:.3f}",
                f"{r['cache_hit_ratio']:.3f}",
                str(r["switches"]),
            )
    Console().print(table)
    if args.plot:
        sweep: dict[str, list[dict[str, Any]]] = {}
        with Progress(transient=True) as progress:
            targets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
            task = progress.add_task("sweeping the share target", total=len(targets) * len(trace_sets))
            for name, turns in trace_sets.items():
                for target in targets:
                    sweep.setdefault(name, []).append(compare(conversations, turns, target))
                    progress.advance(task)
        plot(sweep, args.plot)
        results["sweep"] = sweep
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
