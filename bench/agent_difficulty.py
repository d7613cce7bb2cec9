"""Difficulty on agent turns: does the premium tier go to the turns where a failing agent went wrong?

    python -m bench.agent_difficulty --json bench/results/agent-difficulty.json

The data are the τ-bench airline traces in the shared data (``traces/``, MIT, from
sierra-research/tau-bench): 200 conversations of a GPT-4o customer-service agent with tools, each
with its reward (1 = the database ended as the task required) and the task's expected actions.
Every assistant message is a routing point: the router sees the conversation up to it, as the
HTTP front door would hand it over (role ``chat`` of the bundled catalog, whose premium tier
starts at difficulty 0.75).

No per-turn label says which turns were hard. This benchmark uses the one the data can support:
in a failing conversation, a **mistake turn** is an assistant turn that called a tool which changes
the booking database (book, update, cancel, send a certificate) with a name and arguments that are
not among the task's expected actions. A failed conversation's mistakes are the turns that most
needed the stronger model. Failing conversations that went wrong by omission (no such call) have
no mistake turn and are counted apart.

For each router it reports:

- ``premium_share``: the share of all turns at or above the catalog's premium threshold;
- ``hardest_turns_premium``: the share of mistake turns that got the premium tier there;
- at a matched premium share (``--share``, the same for every router, ties broken by a seeded
  shuffle): ``recall_at_share``, the share of mistake turns in the premium set, and its lift over
  the share itself;
- ``auc``: the probability that a mistake turn scores above a turn that is not one (ties count
  half).

Routers: the estimators in the registry (the heuristic reads the turn's new part), heuristic 0.1
as it was (``bench/legacy_heuristic.py``), prompt length, and random. Prompt length and random have
no calibrated threshold, so they appear at the matched share only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.legacy_heuristic import legacy_estimate, newest_text
from bench.routing_data import default_data_dir
from rolemodel.dialects.openai_chat.request import decode_request
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.route_input import RouteInput, build_route_input
from rolemodel_router.engine.tiering import difficulty
from rolemodel_router.estimators.registry import available_estimators, load_estimator

TRACES = "tau-bench-gpt-4o-airline.json"
CATALOG = Path(__file__).resolve().parent.parent / "examples" / "catalog.yaml"
ROLE = "chat"
WRITE_TOOLS = frozenset(
    {
        "book_reservation",
        "cancel_reservation",
        "update_reservation_flights",
        "update_reservation_baggages",
        "update_reservation_passengers",
        "send_certificate",
    }
)


@dataclass(frozen=True)
class Turn:
    conversation: int
    failing: bool
    mistake: bool
    request: RouteInput


def default_traces() -> Path:
    return default_data_dir().parent / "traces" / TRACES


def _canonical(action: Any) -> str:
    return json.dumps(action, sort_keys=True)


def is_mistake(message: dict[str, Any], expected: set[str]) -> bool:
    """Whether ``message`` calls a database-changing tool in a way the task did not expect."""
    for call in message.get("tool_calls") or []:
        name = call["function"]["name"]
        if name not in WRITE_TOOLS:
            continue
        try:
            arguments = json.loads(call["function"]["arguments"] or "{}")
        except json.JSONDecodeError:
            return True
        if _canonical({"name": name, "kwargs": arguments}) not in expected:
            return True
    return False


def load_turns(path: Path, index: CatalogIndex) -> list[Turn]:
    conversations = json.loads(path.read_text(encoding="utf-8"))
    turns: list[Turn] = []
    for number, record in enumerate(conversations):
        failing = float(record["reward"]) < 1.0
        expected = {_canonical(a) for a in record["info"]["task"]["actions"]}
        trajectory = record["traj"]
        for position, message in enumerate(trajectory):
            if message["role"] != "assistant" or position == 0:
                continue
            canonical = decode_request({"model": ROLE, "messages": trajectory[:position]})
            conversation = conversation_pb2.ConversationRef(
                conversation_id=f"tau-{number}",
                messages=[conversation_pb2.MessageRef(message=m) for m in canonical.messages],
            )
            request = router_service_pb2.RouteRequest(
                conversation=conversation, hints=hints_pb2.RoutingHints(role=ROLE)
            )
            mistake = failing and is_mistake(message, expected)
            turns.append(Turn(number, failing, mistake, build_route_input(request, index, Limits())))
    return turns


def scorers(seed: int) -> dict[str, Callable[[RouteInput], float]]:
    found: dict[str, Callable[[RouteInput], float]] = {}
    for name in available_estimators():
        estimator = load_estimator(name)
        found[f"{name} {estimator.version}"] = lambda r, e=estimator: difficulty(r, e).value  # type: ignore[misc]
    found["heuristic 0.1 (before)"] = lambda r: legacy_estimate(
        r.role.role.name, newest_text(r.messages), r.new_tokens, r.tool_call_pending
    )
    found["prompt length"] = lambda r: float(r.prompt_tokens)
    shuffle = random.Random(seed)
    found["random"] = lambda _r: shuffle.random()
    return found


#: Routers whose scores are not probabilities: they have no premium threshold, only a rank.
UNCALIBRATED = frozenset({"prompt length", "random"})


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties half, by ranks."""
    labelled = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum = 0.0
    position = 0
    while position < len(labelled):
        end = position
        while end < len(labelled) and labelled[end][0] == labelled[position][0]:
            end += 1
        mid_rank = (position + 1 + end) / 2
        rank_sum += mid_rank * sum(label for _, label in labelled[position:end])
        position = end
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def evaluate(
    turns: Sequence[Turn], scores: Sequence[float], threshold: float | None, share: float, seed: int
) -> dict[str, float]:
    mistakes = [i for i, t in enumerate(turns) if t.mistake]
    result: dict[str, float] = {}
    if threshold is not None:
        premium = [s >= threshold for s in scores]
        result["premium_share"] = sum(premium) / len(turns)
        result["hardest_turns_premium"] = sum(premium[i] for i in mistakes) / len(mistakes)
        failing = [i for i, t in enumerate(turns) if t.failing]
        passing = [i for i, t in enumerate(turns) if not t.failing]
        result["premium_share_failing"] = sum(premium[i] for i in failing) / len(failing)
        result["premium_share_passing"] = sum(premium[i] for i in passing) / len(passing)
    order = list(range(len(turns)))
    random.Random(seed).shuffle(order)  # ties fall in a seeded order
    order.sort(key=lambda i: scores[i], reverse=True)
    chosen = set(order[: round(share * len(turns))])
    recall = sum(1 for i in mistakes if i in chosen) / len(mistakes)
    result["recall_at_share"] = recall
    result["lift_at_share"] = recall / share
    mistake_set = set(mistakes)
    result["auc"] = auc([scores[i] for i in mistakes], [s for i, s in enumerate(scores) if i not in mistake_set])
    result["distinct_scores"] = float(len(set(scores)))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=Path, default=default_traces(), help="the τ-bench traces file")
    parser.add_argument("--share", type=float, default=0.2, help="the matched premium share (default 0.2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    args = parser.parse_args(argv)
    if not args.traces.is_file():
        print(f"traces not found at {args.traces}; pass --traces; nothing measured", file=sys.stderr)
        return 0
    if not 0.0 < args.share < 1.0:
        print("--share must be between 0 and 1", file=sys.stderr)
        return 2
    index = CatalogIndex(load_catalog(CATALOG))
    top = index.roles[ROLE].top_tier
    threshold = index.roles[ROLE].tier_min_difficulty[top]
    turns = load_turns(args.traces, index)
    conversations = {t.conversation for t in turns}
    failing = {t.conversation for t in turns if t.failing}
    with_mistake = {t.conversation for t in turns if t.mistake}
    summary = {
        "conversations": len(conversations),
        "failing_conversations": len(failing),
        "failing_with_a_mistake_turn": len(with_mistake),
        "turns": len(turns),
        "mistake_turns": sum(t.mistake for t in turns),
        "role": ROLE,
        "premium_threshold": threshold,
        "matched_share": args.share,
    }
    print(
        f"{summary['conversations']} conversations ({len(failing)} failing, {len(with_mistake)} of them with a "
        f"mistake turn), {len(turns)} turns, {summary['mistake_turns']} mistake turns; role {ROLE}, premium at "
        f"difficulty >= {threshold}"
    )
    if not summary["mistake_turns"]:
        print("no mistake turn in these traces; nothing to rank", file=sys.stderr)
        return 0
    routers: dict[str, dict[str, float]] = {}
    header = (
        f"{'router':<24} {'premium':>8} {'hardest':>8} {'fail/pass':>11} "
        f"{'recall@' + format(args.share, '.0%'):>10} {'lift':>5} {'AUC':>6} {'distinct':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, score in scorers(args.seed).items():
        scores = [score(t.request) for t in turns]
        calibrated = name not in UNCALIBRATED
        result = evaluate(turns, scores, threshold if calibrated else None, args.share, args.seed)
        routers[name] = result
        at_threshold = (
            f"{result['premium_share']:>8.1%} {result['hardest_turns_premium']:>8.1%} "
            f"{result['premium_share_failing']:>5.0%}/{result['premium_share_passing']:<5.0%}"
            if "premium_share" in result
            else f"{'-':>8} {'-':>8} {'-':>11}"
        )
        print(
            f"{name:<24} {at_threshold} {result['recall_at_share']:>10.1%} {result['lift_at_share']:>5.2f} "
            f"{result['auc']:>6.3f} {int(result['distinct_scores']):>8}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "routers": routers}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
