"""Pacing a subscription's usage windows: agent turns replayed through a simulated ChatGPT plan.

A Codex user on a ChatGPT subscription routes part of the turns to a cheap paid endpoint
(DeepSeek V3.2 at its list prices). The subscription is limited by a 5-hour and a 7-day window
and reports, after each response, only the whole percent used of each and when it resets, as
the Codex backend does. How much one turn uses is hidden: proportional to its tokens (uncached
input, cached input at a tenth, output four times), times a lognormal noise.

The turns are the 200 tau-bench airline trajectories (GPT-4o agent turns, MIT licence) from the
shared data folder, replayed back to back as one developer's Codex session: a tool answers in 1
to 3 s, the user thinks about 20 s. A turn's difficulty is what a client would report: higher in
the trajectories that failed their task (the trace's own failure signal) plus a per-turn part.

Scenarios:
    5h           five hours of continuous work: one 5-hour window; the weekly window has room
    7d           a week of ten-hour working days: every 5-hour window the work opens, and the 7-day one
    7d_weekdays  the same week with the last two days off: a known limit of the pacing rule, whose
                 day profile cannot foresee a rest day (spec 9.8), reported as measured

Policies (all refused by the provider once a window is full, then sent to the cheap endpoint):
    always_premium   every turn to the subscription
    fixed_share      the hardest half of the turns, by the premium-share controller at 0.5
    paced            the premium-share controller at the share rolemodel.pacing allows (spec 9.8)

    python bench/subscription_window.py [--data-dir DIR] [--json FILE]

Goal (issue 12): the paced router never runs out before a reset and uses at least 90% of each
binding window; always-premium runs out early. The goal is judged on ``5h`` and ``7d``;
``7d_weekdays`` shows where the rule falls short. The numbers are reported as measured, met or not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.shared_data import shared_data_dir
from rolemodel import cost, pacing
from rolemodel.dialects.openai_chat.messages import decode_messages
from rolemodel.tokens import estimate_message_tokens
from rolemodel.v1 import catalog_pb2, conversation_pb2
from rolemodel_router.engine import share
from rolemodel_router.engine.catalog_index import ShareTarget
from rolemodel_router.state.model import ShareState

DEFAULT_DATA = shared_data_dir()
TRACES = Path("traces") / "tau-bench-gpt-4o-airline.json"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SHORT_MS, LONG_MS = 5 * HOUR_MS, 7 * 24 * HOUR_MS
#: The subscription's size in average turns: the 5-hour window holds 500, the week 3,000.
SHORT_CAPACITY_TURNS, LONG_CAPACITY_TURNS = 500, 3000
#: The catalog's priors for one premium turn's use (the design note's figures).
PRIOR_SHORT, PRIOR_LONG = 0.002, 0.0003
WORKDAY_HOURS = 10
WORKDAYS_PER_WEEK = 5
SHARE_WINDOW = 200
FIXED_SHARE = 0.5
#: DeepSeek V3.2 list prices, with its automatic disk cache (no write fee, a hit costs a tenth).
DEEPSEEK = catalog_pb2.Endpoint(
    id="deepseek-chat",
    pricing=catalog_pb2.EndpointPricing(
        currency="USD", input_per_mtok="0.28", output_per_mtok="0.42", cache_read_per_mtok="0.028"
    ),
    caching=catalog_pb2.CachingBehavior(
        mode=catalog_pb2.CACHE_MODE_AUTOMATIC, min_cacheable_tokens=64, granularity_tokens=64, ttl_seconds=3600
    ),
)


@dataclass(frozen=True)
class Turn:
    at_ms: int
    conversation: int
    prompt_tokens: int
    output_tokens: int
    difficulty: float
    hard: bool  # from a trajectory that failed its task


@dataclass
class Conversation:
    cumulative: list[int]
    assistant: list[int]  # indexes of the assistant messages after the first message
    after_tool: set[int]  # those that answer a tool's result
    failed: bool


def load(path: Path) -> list[Conversation]:
    conversations = []
    for trajectory in json.loads(path.read_text()):
        messages = decode_messages(trajectory["traj"])
        cumulative, running = [], 0
        for message in messages:
            running += estimate_message_tokens(message)
            cumulative.append(running)
        assistant = [i for i, m in enumerate(messages) if i > 0 and m.role == conversation_pb2.MESSAGE_ROLE_ASSISTANT]
        after_tool = {i for i in assistant if messages[i - 1].role == conversation_pb2.MESSAGE_ROLE_TOOL}
        conversations.append(Conversation(cumulative, assistant, after_tool, trajectory.get("reward", 0.0) < 1.0))
    return conversations


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def session(conversations: list[Conversation], active: Callable[[int], bool], end_ms: int) -> Iterator[Turn]:
    """The turns of one developer's session: the trajectories back to back while ``active`` says work goes on."""
    rng = random.Random(12)
    now, round_ = 0, 0
    while now < end_ms:
        for ci, conv in enumerate(conversations):
            for i in conv.assistant:
                while not active(now):
                    now += 60_000
                tool = i in conv.after_tool
                now += rng.randint(1_000, 3_000) if tool else int(rng.lognormvariate(math.log(20_000), 0.6))
                if now >= end_ms:
                    return
                output = conv.cumulative[i] - conv.cumulative[i - 1]
                part = _unit("difficulty", round_, ci, i)
                yield Turn(now, ci, conv.cumulative[i - 1], output, 0.45 * conv.failed + 0.55 * part, conv.failed)
                now += 2_000
        round_ += 1


def weight(turn: Turn, cached: int) -> float:
    """The hidden use of one premium turn, before the noise: its tokens as a usage meter weighs them."""
    return (turn.prompt_tokens - cached) + 0.1 * cached + 4 * turn.output_tokens


@dataclass(frozen=True)
class WeekSoFar:
    """Where the 7-day window stands when a scenario begins."""

    started_ms: int
    used: float


#: The 5-hour scenario tests the short window: the week has room and resets in six hours.
LATE_IN_A_ROOMY_WEEK = WeekSoFar(started_ms=-(LONG_MS - 6 * HOUR_MS), used=0.3)
#: The 7-day scenario starts with the week.
NEW_WEEK = WeekSoFar(started_ms=0, used=0.0)


class Window:
    """One of the provider's windows, as the provider keeps it (the client sees rounded percents)."""

    def __init__(self, length_ms: int, capacity: float, start_ms: int | None = None, used: float = 0.0) -> None:
        self.length_ms, self.capacity, self.start_ms, self.used = length_ms, capacity, start_ms, used
        self.history: list[dict[str, Any]] = []
        self.ran_out_at_ms: int | None = None

    def roll(self, now_ms: int, start_on_use: bool) -> None:
        """Close the window at its reset; a new one starts now (fixed) or at the next turn (5-hour)."""
        if self.start_ms is not None and now_ms >= self.start_ms + self.length_ms:
            self.close()
            self.start_ms, self.used, self.ran_out_at_ms = None, 0.0, None
        if self.start_ms is None and not start_on_use:
            self.start_ms = now_ms - now_ms % self.length_ms

    def close(self) -> None:
        if self.start_ms is None:
            return
        share = min(1.0, self.used / self.capacity)
        ran_out = None if self.ran_out_at_ms is None else round((self.ran_out_at_ms - self.start_ms) / HOUR_MS, 2)
        self.history.append(
            {
                "started_h": round(self.start_ms / HOUR_MS, 2),
                "used": round(share, 4),
                "ran_out_after_h": ran_out,
                "left_at_reset": round(1 - share, 4),
            }
        )

    @property
    def full(self) -> bool:
        return self.start_ms is not None and self.used >= self.capacity

    @property
    def resets_at_ms(self) -> int:
        return (self.start_ms or 0) + self.length_ms

    def reported(self) -> float:
        return round(min(1.0, self.used / self.capacity) * 100) / 100  # whole percents, as Codex sends


class Subscription:
    """The provider: admits a premium turn while no window is full, meters it, and reports."""

    def __init__(self, mean_weight: float, seed: int, week: WeekSoFar) -> None:
        self.short = Window(SHORT_MS, SHORT_CAPACITY_TURNS * mean_weight)
        self.long = Window(
            LONG_MS, LONG_CAPACITY_TURNS * mean_weight, week.started_ms, week.used * LONG_CAPACITY_TURNS * mean_weight
        )
        self.rng = random.Random(seed)

    def admits(self, now_ms: int) -> bool:
        self.short.roll(now_ms, start_on_use=True)
        self.long.roll(now_ms, start_on_use=False)
        return not (self.short.full or self.long.full)

    def serve(self, turn: Turn, cached: int) -> tuple[tuple[float, int], tuple[float, int]]:
        if self.short.start_ms is None:
            self.short.start_ms = turn.at_ms
        use = weight(turn, cached) * self.rng.lognormvariate(0, 0.3)
        for window in (self.short, self.long):
            window.used += use
            if window.full and window.ran_out_at_ms is None:
                window.ran_out_at_ms = turn.at_ms
        return (self.short.reported(), self.short.resets_at_ms), (self.long.reported(), self.long.resets_at_ms)

    def finish(self) -> None:
        for window in (self.short, self.long):
            window.close()


class Policy:
    """Which turns go to the subscription; ``observe`` sees each turn and each report."""

    name = ""

    def share(self, now_ms: int) -> float:
        return 1.0

    def observe_turn(self, turn: Turn, premium: bool) -> None: ...

    def observe_report(self, now_ms: int, short: tuple[float, int], long: tuple[float, int]) -> None: ...


class AlwaysPremium(Policy):
    name = "always_premium"


class Controlled(Policy):
    """The reference router's premium-share controller (spec 9.7) at a target share."""

    def __init__(self) -> None:
        self.state = ShareState()
        self.target = ShareTarget(FIXED_SHARE, SHARE_WINDOW, "")

    def premium(self, turn: Turn) -> bool:
        target = self.share(turn.at_ms)
        if target <= 0:
            return False
        return turn.difficulty >= share.threshold(self.state, target, 1.0 - target)

    def observe_turn(self, turn: Turn, premium: bool) -> None:
        self.state = share.record(self.state, self.target, self.share(turn.at_ms), turn.difficulty, premium, turn.at_ms)


class FixedShare(Controlled):
    name = "fixed_share"

    def share(self, now_ms: int) -> float:
        return FIXED_SHARE


class Paced(Controlled):
    """The target share is what every window allows (rolemodel.pacing), the tightest binding."""

    name = "paced"

    def __init__(self) -> None:
        super().__init__()
        self.windows = [pacing.UsageWindowState(), pacing.UsageWindowState()]
        self.rules = [
            pacing.WindowRule(PRIOR_SHORT, SHORT_MS // 1000),
            pacing.WindowRule(PRIOR_LONG, LONG_MS // 1000),
        ]
        self.times: list[int] = []

    def rate(self) -> float | None:
        """Routable turns per ms over the controller's window, as the router observes the role's arrivals."""
        if len(self.times) < share.MIN_RATE_SAMPLES or self.times[-1] <= self.times[0]:
            return None
        return (len(self.times) - 1) / (self.times[-1] - self.times[0])

    def share(self, now_ms: int) -> float:
        return pacing.pace(self.windows, self.rules, now_ms, self.rate()).share

    def observe_turn(self, turn: Turn, premium: bool) -> None:
        super().observe_turn(turn, premium)
        self.times = [*self.times, turn.at_ms][-SHARE_WINDOW:]
        self.windows = [pacing.record_routable(w, turn.at_ms) for w in self.windows]
        if premium:
            self.windows = [pacing.record_turn(w, turn.at_ms) for w in self.windows]

    def observe_report(self, now_ms: int, short: tuple[float, int], long: tuple[float, int]) -> None:
        self.windows = [
            pacing.record_report(w, used, resets, now_ms)
            for w, (used, resets) in zip(self.windows, (short, long), strict=True)
        ]


def run(turns: list[Turn], policy: Policy, mean_weight: float, week: WeekSoFar) -> dict[str, Any]:
    provider = Subscription(mean_weight, seed=7, week=week)
    econ = cost.economics_from_endpoint(DEEPSEEK)
    held: dict[int, int] = {}  # conversation -> prompt tokens the cheap endpoint holds
    cheap_picos = premium = hard = hard_premium = refused = 0
    premium_held: dict[int, int] = {}
    for turn in turns:
        wants = isinstance(policy, AlwaysPremium) or (isinstance(policy, Controlled) and policy.premium(turn))
        served_premium = wants and provider.admits(turn.at_ms)
        refused += wants and not served_premium
        if served_premium:
            cached = min(premium_held.get(turn.conversation, 0), turn.prompt_tokens)
            short, long = provider.serve(turn, cached)
            premium_held[turn.conversation] = turn.prompt_tokens + turn.output_tokens
            premium += 1
            policy.observe_turn(turn, True)
            policy.observe_report(turn.at_ms, short, long)
        else:
            matched = min(held.get(turn.conversation, 0), turn.prompt_tokens)
            cached = cost.cacheable_tokens(econ, matched)
            cheap_picos += cost.turn_cost(econ, turn.prompt_tokens, cached, turn.output_tokens).total_picos
            held[turn.conversation] = turn.prompt_tokens + turn.output_tokens
            provider.admits(turn.at_ms)  # the windows still roll over while the turn goes elsewhere
            policy.observe_turn(turn, False)
        hard += turn.hard
        hard_premium += turn.hard and served_premium
    provider.finish()  # nothing more is used before the open windows reset
    return {
        "premium_share": round(premium / len(turns), 4),
        "hard_turns_on_premium": round(hard_premium / max(1, hard), 4),
        "refused_by_provider": refused,
        "cheap_cost_usd": round(cheap_picos / 1e12, 4),
        "turns": len(turns),
        "windows": {"5h": provider.short.history, "7d": provider.long.history},
    }


def working_hours(now_ms: int) -> bool:
    return (now_ms % DAY_MS) < WORKDAY_HOURS * HOUR_MS


def working_weekdays(now_ms: int) -> bool:
    """Working hours of the first five days; after the week, any time (so the session can end)."""
    return now_ms >= LONG_MS or (working_hours(now_ms) and now_ms // DAY_MS < WORKDAYS_PER_WEEK)


def scenarios(conversations: list[Conversation]) -> dict[str, tuple[list[Turn], WeekSoFar]]:
    continuous = list(session(conversations, lambda now: True, SHORT_MS))
    workdays = list(session(conversations, working_hours, LONG_MS))
    weekdays = list(session(conversations, working_weekdays, LONG_MS))
    return {
        "5h": (continuous, LATE_IN_A_ROOMY_WEEK),
        "7d": (workdays, NEW_WEEK),
        "7d_weekdays": (weekdays, NEW_WEEK),
    }


def mean_weight(conversations: list[Conversation]) -> float:
    """One turn's average metered weight, with the conversation's own prefix cached, to size the plan."""
    weights = [
        weight(
            Turn(0, 0, c.cumulative[i - 1], c.cumulative[i] - c.cumulative[i - 1], 0, hard=False), c.cumulative[i - 2]
        )
        for c in conversations
        for i in c.assistant
        if i >= 2
    ]
    return sum(weights) / len(weights)


def goals(results: dict[str, dict[str, dict[str, Any]]], binding: dict[str, str]) -> dict[str, Any]:
    """The issue's goals, measured: paced never runs out and uses >= 90% of the binding windows."""
    out: dict[str, Any] = {}
    for scenario, policies in results.items():
        paced = policies["paced"]["windows"]
        always = policies["always_premium"]["windows"]
        ran_out = [w for windows in paced.values() for w in windows if w["ran_out_after_h"] is not None]
        binding_use = [w["used"] for w in paced[binding[scenario]]]
        out[scenario] = {
            "paced_never_ran_out": not ran_out,
            "paced_binding_window": binding[scenario],
            "paced_binding_window_min_use": min(binding_use),
            "paced_uses_90_percent": min(binding_use) >= 0.9,
            "paced_min_use_per_window": {k: min((w["used"] for w in v), default=0.0) for k, v in paced.items()},
            "always_premium_ran_out_early": any(w["ran_out_after_h"] is not None for w in always[binding[scenario]]),
        }
    return out


def print_tables(console: Console, results: dict[str, dict[str, dict[str, Any]]], met: dict[str, Any]) -> None:
    for scenario, policies in results.items():
        table = Table(title=f"scenario {scenario}: {next(iter(policies.values()))['turns']} turns")
        for column in ("policy", "premium share", "hard turns premium", "cheap cost $", "5h windows", "7d window"):
            table.add_column(column, justify="left" if column in ("policy", "5h windows", "7d window") else "right")
        for name, r in policies.items():

            def describe(windows: list[dict[str, Any]]) -> str:
                out_at = [w["ran_out_after_h"] for w in windows if w["ran_out_after_h"] is not None]
                used = [w["used"] for w in windows]
                text = f"{len(windows)}: use {min(used):.0%}-{max(used):.0%}"
                return text + (f", {len(out_at)} ran out (first after {min(out_at):.1f} h)" if out_at else "")

            table.add_row(
                name,
                f"{r['premium_share']:.1%}",
                f"{r['hard_turns_on_premium']:.1%}",
                f"{r['cheap_cost_usd']:.2f}",
                describe(r["windows"]["5h"]),
                describe(r["windows"]["7d"]),
            )
        console.print(table)
        console.print(f"goals: {json.dumps(met[scenario])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    source = args.data_dir / TRACES
    if not source.exists():
        parser.exit(2, f"subscription_window: the tau-bench traces are not at {source} (see --data-dir)\n")
    conversations = load(source)
    weight_per_turn = mean_weight(conversations)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for scenario, (turns, week) in scenarios(conversations).items():
        results[scenario] = {
            policy.name: run(turns, policy, weight_per_turn, week)
            for policy in (AlwaysPremium(), FixedShare(), Paced())
        }
    met = goals(results, {"5h": "5h", "7d": "7d", "7d_weekdays": "7d"})
    document = {
        "benchmark": "subscription_window",
        "plan": {
            "5h_capacity_turns": SHORT_CAPACITY_TURNS,
            "7d_capacity_turns": LONG_CAPACITY_TURNS,
            "mean_turn_weight": round(weight_per_turn, 1),
            "priors": {"5h": PRIOR_SHORT, "7d": PRIOR_LONG},
            "target": pacing.DEFAULT_TARGET,
        },
        "results": results,
        "goals": met,
    }
    print_tables(Console(), results, met)
    if args.json:
        args.json.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
