"""Send malformed and adversarial requests over the wire and check every answer.

Requests come from hypothesis strategies: random bytes for every RPC,
mutated (bit-flipped, truncated) serialisations of valid requests, invalid
UTF-8 in string fields, negative and huge counts, NaN and infinite
difficulties, unknown enum values, digest chains that do not match their
messages, ten thousand messages, oversized texts, inconsistent usage and
unknown ids in outcomes; and valid-but-odd inputs no decoder can use, in
their gRPC form: tool definitions nested up to
5,000 deep, JSON Schemas with a lone surrogate, a 4,000-digit number or 5,000
levels of nesting. Every answer must be either a valid response or a
status whose details carry an ErrorInfo of the rolemodel.dev domain with a
registered reason. The router (SQLite store) must not crash, must not grow
beyond a stated memory bound, and its database must hold exactly what the
accepted calls wrote.

    python bench/fuzz_wire.py [--requests 20000] [--seed 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rolemodel.digest import digest_chain
from rolemodel.error_reasons import ERROR_DOMAIN, ErrorReason
from rolemodel.status import status_from_trailers, unpack_details
from rolemodel.v1 import conversation_pb2, hints_pb2, outcome_pb2, router_service_pb2
from tests.router.harness import RouterProcess

METHODS = ("GetRouterCard", "Route", "ReportOutcome", "Execute")
VERSION = (("rolemodel-version", "1.0"),)
ROLES = ["chat", "chore", "code.edit", "summarize", "x-conformance.quota", "nope", "", "x" * 300]
ENDPOINTS = ["fx-local", "fx-gpt5", "fx-mini", "unknown", "", "é" * 90]
#: Growth allowed over a run: the state of accepted decisions is kept by design (retention), rejects add nothing.
RSS_BOUND_MB = 200.0
REGISTERED = {r.value for r in ErrorReason}


def _valid_route(seed: int, messages: int = 3) -> router_service_pb2.RouteRequest:
    content = [
        conversation_pb2.Message(
            role=conversation_pb2.MESSAGE_ROLE_USER,
            parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=f"message {seed} {i}"))],
        )
        for i in range(messages)
    ]
    refs = [conversation_pb2.MessageRef(token_count=100, digest=d) for d in digest_chain(content)]
    return router_service_pb2.RouteRequest(
        conversation=conversation_pb2.ConversationRef(conversation_id=f"fuzz-{seed}", messages=refs),
        hints=hints_pb2.RoutingHints(role="chore"),
    )


@st.composite
def route_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    request = _valid_route(draw(st.integers(0, 10**9)), draw(st.integers(1, 6)))
    hints, conv = request.hints, request.conversation
    hints.role = draw(st.sampled_from(ROLES))
    if draw(st.booleans()):
        hints.difficulty = draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(math.nan)))
    hints.strategy = draw(st.integers(0, 2**31 - 1) | st.integers(0, 5))  # type: ignore[assignment]
    hints.locality = draw(st.integers(0, 9))  # type: ignore[assignment]
    hints.limits.max_cost_picos = draw(st.integers(-(2**63), 2**63 - 1))
    hints.requirements.capabilities.extend(draw(st.lists(st.integers(0, 300), max_size=4)))  # type: ignore[arg-type]
    hints.endpoint_choice.pinned_endpoint_id = draw(st.sampled_from(ENDPOINTS))
    hints.endpoint_choice.avoid_endpoint_ids.extend(draw(st.lists(st.sampled_from(ENDPOINTS), max_size=80)))
    for key, value in draw(st.dictionaries(st.text(max_size=300), st.text(max_size=300), max_size=80)).items():
        hints.labels[key] = value
    if draw(st.booleans()):
        hints.escalation.force_level = draw(st.integers(0, 2**32 - 1))
    conv.turn_index = draw(st.integers(0, 2**32 - 1))
    conv.conversation_id = draw(st.sampled_from([conv.conversation_id, "", "has space", "ü" * 200]))
    for ref in conv.messages:
        choice = draw(st.integers(0, 5))
        if choice == 0:
            ref.digest = draw(st.binary(max_size=40))
        elif choice == 1:
            ref.ClearField("token_count")
        elif choice == 2:
            ref.token_count = draw(st.integers(0, 2**32 - 1))
        elif choice == 3:  # content that does not match the digest
            ref.message.role = draw(st.integers(0, 9))  # type: ignore[assignment]
            ref.message.parts.add().text.text = draw(st.text(max_size=200))
    if draw(st.integers(0, 40)) == 0:
        conv.messages.extend(conversation_pb2.MessageRef(token_count=1, digest=bytes(32)) for _ in range(10_000))
    if draw(st.integers(0, 60)) == 0:
        conv.messages[0].message.parts.add().text.text = "x" * (5 * 1024 * 1024)
    request.include_handoff = draw(st.booleans())
    request.dry_run = draw(st.booleans())
    return "Route", request.SerializeToString()


@st.composite
def outcome_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    outcome = outcome_pb2.Outcome(
        decision_id=draw(st.text(max_size=80)),
        served_endpoint_id=draw(st.sampled_from(ENDPOINTS)),
        outcome_class=draw(st.integers(0, 40)),  # type: ignore[arg-type]
        idempotency_key=draw(st.text(max_size=200)),
        usage=outcome_pb2.Usage(
            input_tokens=draw(st.integers(0, 2**32 - 1)),
            cache_read_tokens=draw(st.integers(0, 2**32 - 1)),
            cache_write_tokens=draw(st.integers(0, 2**32 - 1)),
            output_tokens=draw(st.integers(0, 2**32 - 1)),
        ),
        detail=draw(st.text(max_size=2000)),
    )
    return "ReportOutcome", router_service_pb2.ReportOutcomeRequest(outcome=outcome).SerializeToString()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    data = bytearray(_valid_route(draw(st.integers(0, 10**6))).SerializeToString())
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return draw(st.sampled_from(["Route", "ReportOutcome", "Execute"])), bytes(data)


@st.composite
def invalid_utf8(draw: st.DrawFn) -> tuple[str, bytes]:
    request = _valid_route(draw(st.integers(0, 10**6)))
    request.hints.role = "ROLE_PLACEHOLDER"
    data = request.SerializeToString().replace(b"ROLE_PLACEHOLDER", b"\xff\xfe\xc3\x28role" + bytes(8))
    return "Route", data


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field, written by hand: nesting deeper than the library will encode."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


ODD_SCHEMAS = (
    '{"type": "object"}',
    '{"description": "\\ud800"}',  # a lone surrogate, escaped as JSON allows
    '{"maximum": ' + "9" * 4000 + "}",
    "[" * 5000 + "]" * 5000,
)
TOOLS_FIELD = conversation_pb2.ConversationRef.DESCRIPTOR.fields_by_name["tools"].number
NESTED_TOOLS_FIELD = conversation_pb2.ToolDefinition.DESCRIPTOR.fields_by_name["tools"].number
CONVERSATION_FIELD = router_service_pb2.RouteRequest.DESCRIPTOR.fields_by_name["conversation"].number


@st.composite
def odd_but_parseable(draw: st.DrawFn) -> tuple[str, bytes]:
    """Finding 8 over gRPC: each must be a decision or a REQUEST_INVALID with ErrorInfo.

    The other half of finding 8, a request between the router's size limit and the transport's, is
    tests/router/test_errors.py's 40 MB request: sent here it would swamp the memory bound.
    """
    request = _valid_route(draw(st.integers(0, 10**6)))
    leaf = conversation_pb2.ToolDefinition(name="t", parameters_json_schema=draw(st.sampled_from(ODD_SCHEMAS)))
    tool = leaf.SerializeToString()
    for _ in range(draw(st.sampled_from([0, 1, 60, 101, 900, 5000]))):
        tool = _field(NESTED_TOOLS_FIELD, tool)
    # Appended fields merge into the message they name: the conversation gains the tool.
    return "Route", request.SerializeToString() + _field(CONVERSATION_FIELD, _field(TOOLS_FIELD, tool))


raw_bytes = st.tuples(st.sampled_from(METHODS), st.binary(max_size=2048))
requests = st.one_of(route_requests(), outcome_requests(), mutated(), invalid_utf8(), odd_but_parseable(), raw_bytes)


@dataclass
class Tally:
    sent: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    malformed_statuses: list[str] = field(default_factory=list)
    accepted_routes: int = 0
    accepted_outcomes: int = 0


def _check_error(error: grpc.RpcError, tally: Tally) -> None:
    code = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
    trailers: list[tuple[str, str | bytes]] = (
        list(error.trailing_metadata() or ()) if isinstance(error, grpc.Call) else []
    )
    status = status_from_trailers(trailers)
    info = unpack_details(status)[0] if status is not None else None
    if info is None or info.domain != ERROR_DOMAIN or info.reason not in REGISTERED:
        tally.malformed_statuses.append(f"{code}: {error.details() if isinstance(error, grpc.Call) else error}")
        tally.by_status[f"{code} (no ErrorInfo)"] += 1
    else:
        tally.by_status[f"{code} {info.reason}"] += 1


def send(channel: grpc.Channel, method: str, payload: bytes, tally: Tally) -> None:
    tally.sent += 1
    path = f"/rolemodel.v1.RouterService/{method}"
    try:
        if method == "Execute":
            stream: Any = channel.unary_stream(path)  # raw bytes in and out: no serializers
            for _ in stream(payload, metadata=VERSION, timeout=10):
                pass
            tally.by_status["OK"] += 1
            return
        unary: Any = channel.unary_unary(path)
        response: bytes = unary(payload, metadata=VERSION, timeout=10)
    except grpc.RpcError as error:
        _check_error(error, tally)
        return
    tally.by_status["OK"] += 1
    if method == "Route":
        decision = router_service_pb2.RouteResponse.FromString(response).decision
        tally.accepted_routes += not decision.dry_run
    elif method == "ReportOutcome":
        tally.accepted_outcomes += not router_service_pb2.ReportOutcomeResponse.FromString(response).replayed


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(count: int, seed: int, show_progress: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "router.db"
        with (
            RouterProcess(f"sqlite:///{db}", log_level="error") as router,
            grpc.insecure_channel(router.address, options=[("grpc.max_send_message_length", 64 << 20)]) as channel,
        ):
            if router.process is None:
                raise RuntimeError("the router did not start")
            pid = router.process.pid
            for i in range(200):  # warm up before the first memory reading
                send(channel, "Route", _valid_route(i).SerializeToString(), Tally())
            baseline_routes = 200
            rss_before = rss_mb(pid)
            tally = Tally()
            with Progress(transient=True, disable=not show_progress) as progress:
                task = progress.add_task("fuzzing", total=count)

                @hypothesis_seed(seed)
                @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
                @given(st.data())
                def fuzz(data: st.DataObject) -> None:
                    method, payload = data.draw(requests)
                    send(channel, method, payload, tally)
                    progress.advance(task)

                fuzz()
            crashed = router.process.poll() is not None
            rss_after = rss_mb(pid) if not crashed else 0.0
            router.stop()
        database = sqlite3.connect(db)
        decisions = database.execute("SELECT count(*) FROM decisions").fetchone()[0]
        outcomes = database.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        integrity = database.execute("PRAGMA integrity_check").fetchone()[0]
        database.close()
    extra_rows = (decisions - baseline_routes - tally.accepted_routes) + (outcomes - tally.accepted_outcomes)
    return {
        "sent": tally.sent,
        "by_status": dict(tally.by_status.most_common()),
        "server_crashes": int(crashed),
        "state_changed_by_rejects": extra_rows,
        "rss_growth_mb": round(rss_after - rss_before, 1),
        "rss_bound_mb": RSS_BOUND_MB,
        "malformed_statuses": tally.malformed_statuses[:20],
        "integrity_check": integrity,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.requests, args.seed)
    table = Table(title=f"{result['sent']} adversarial requests")
    table.add_column("answer")
    table.add_column("count", justify="right")
    for status, count in result["by_status"].items():
        table.add_row(status, str(count))
    Console().print(table)
    summary = {k: result[k] for k in ("server_crashes", "state_changed_by_rejects", "rss_growth_mb", "integrity_check")}
    Console().print(summary)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
