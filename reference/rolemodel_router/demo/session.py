"""Runs the scripted session through Execute and collects what each turn did."""

from __future__ import annotations

from dataclasses import dataclass, field

from rolemodel import AsyncRouterClient
from rolemodel.digest import digest_chain
from rolemodel.v1 import common_pb2, conversation_pb2, decision_pb2, hints_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.demo.backends import DemoBackends
from rolemodel_router.demo.conversation import AGENT, AGENT_SYSTEM, Turn

C = conversation_pb2
D = decision_pb2


@dataclass
class TurnResult:
    number: int
    turn: Turn
    decision: D.Decision
    served: str = ""
    #: The endpoint of each attempt, in order, as the stream's ``attempt_started`` events name them.
    attempts: list[str] = field(default_factory=list)
    failed_attempts: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    expected_cached_tokens: int = 0
    estimated_picos: int = 0
    reported_picos: int = 0
    ttft_ms: int = 0
    escalation_level: int | None = None
    error: str = ""

    @property
    def reasons(self) -> list[str]:
        return [D.ReasonCode.Name(r.code).removeprefix("REASON_CODE_") for r in self.decision.reasons]

    def candidate_cost(self, endpoint_id: str) -> int:
        """The decision's estimate of this turn on ``endpoint_id``, excluded or not."""
        for candidate in self.decision.candidates:
            if candidate.endpoint_id == endpoint_id and candidate.HasField("cost"):
                return candidate.cost.total_picos
        return 0


def _text(role: C.MessageRole.ValueType, text: str) -> C.Message:
    return C.Message(role=role, parts=[C.ContentPart(text=C.TextPart(text=text))])


class Session:
    """Two conversations, the chat and the agent's, each with its history and turn counter."""

    def __init__(self, client: AsyncRouterClient, backends: DemoBackends, run_id: str) -> None:
        self.client = client
        self.backends = backends
        self.run_id = run_id
        self.histories: dict[str, list[C.Message]] = {AGENT: [_text(C.MESSAGE_ROLE_SYSTEM, AGENT_SYSTEM)]}
        self.turns: dict[str, int] = {}

    def _request(self, turn: Turn) -> router_service_pb2.ExecuteRequest:
        history = self.histories.setdefault(turn.conversation, [])
        history.append(_text(C.MESSAGE_ROLE_USER, turn.user))
        digests = digest_chain(history)
        hints = hints_pb2.RoutingHints(role=turn.role)
        if turn.difficulty is not None:
            hints.difficulty = turn.difficulty
        return router_service_pb2.ExecuteRequest(
            conversation=C.ConversationRef(
                conversation_id=f"demo-{self.run_id}-{turn.conversation}",
                turn_index=self.turns.get(turn.conversation, 0),
                messages=[C.MessageRef(digest=d, message=m) for d, m in zip(digests, history, strict=True)],
            ),
            hints=hints,
        )

    async def play(self, number: int, turn: Turn) -> TurnResult:
        request = self._request(turn)
        faults = {}
        if turn.fail_chosen is not None:
            # A dry run tells which endpoint the router is about to choose, without recording anything;
            # that endpoint is the one made to fail, so the fallback is shown whatever the scores say.
            preview = await self.client.route(
                router_service_pb2.RouteRequest(conversation=request.conversation, hints=request.hints, dry_run=True)
            )
            faults[preview.chosen_endpoint_id] = turn.fail_chosen
        self.backends.script_turn(turn.answer, faults)
        result: TurnResult | None = None
        async for event in self.client.execute(request, timeout_s=60.0):
            kind = event.WhichOneof("event")
            if kind == "started":
                result = TurnResult(number, turn, event.started.decision)
                plan = event.started.decision.handoff
                result.expected_cached_tokens = plan.cached_prefix_tokens
                result.estimated_picos = result.candidate_cost(event.started.decision.chosen_endpoint_id)
            elif result is not None and kind == "attempt_started":
                result.attempts.append(event.attempt_started.endpoint_id)
            elif result is not None and kind == "attempt_failed":
                result.failed_attempts.append(event.attempt_failed.endpoint_id)
            elif result is not None and kind == "completed":
                self._completed(result, event.completed)
            elif result is not None and kind == "failed":
                result.error = event.failed.detail
        self.backends.clear_scripts()
        if result is None:
            raise RuntimeError("the router sent no decision")
        self.turns[turn.conversation] = self.turns.get(turn.conversation, 0) + 1
        if turn.verdict and result.served:
            await self._verdict(result, turn.verdict)
        return result

    def _completed(self, result: TurnResult, done: router_service_pb2.ExecuteCompleted) -> None:
        result.served = done.served_endpoint_id
        result.prompt_tokens = done.usage.input_tokens
        result.cached_tokens = done.usage.cache_read_tokens
        result.cache_write_tokens = done.usage.cache_write_tokens
        result.reported_picos = done.reported_cost.total_picos
        result.ttft_ms = done.ttft_ms
        if result.served != result.decision.chosen_endpoint_id:
            result.estimated_picos = result.candidate_cost(result.served)
        self.histories[result.turn.conversation].append(done.message)

    async def _verdict(self, result: TurnResult, detail: str) -> None:
        """The client's own check failed: it says so, and the router escalates the role (RM-EXEC-005)."""
        response = await self.client.report_outcome(
            outcome_pb2.Outcome(
                decision_id=result.decision.decision_id,
                served_endpoint_id=result.served,
                outcome_class=common_pb2.OUTCOME_CLASS_TASK_FAILED,
                idempotency_key=f"demo-verdict-{result.decision.decision_id}",
                detail=detail,
            )
        )
        result.escalation_level = response.effects.escalation_level
