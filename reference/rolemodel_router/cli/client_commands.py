"""`rolemodel card` and `rolemodel route`: talk to a running router with the SDK."""

from __future__ import annotations

import argparse
import sys
import uuid

import grpc
from google.protobuf import json_format

from rolemodel import RouterClient, conversation_ref, text_message
from rolemodel.digest import digest_chain
from rolemodel.errors import ProtocolError, RoleModelError
from rolemodel.v1 import common_pb2, conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.cli.render import card_text, console, decision_text

EXIT_REFUSED = 1


def _unreachable(command: str, target: str, error: RoleModelError) -> str | None:
    """One line for a router that is not there, with what to do; None when the router did answer."""
    if not isinstance(error, ProtocolError) or error.code not in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ):
        return None
    text = error.message.lower()
    if "refused" in text:
        why = "connection refused"
    elif "resolv" in text or "name not found" in text or "lookup" in text:
        why = "the host name does not resolve"
    elif error.code == grpc.StatusCode.DEADLINE_EXCEEDED:
        why = "no answer in time"
    else:
        why = error.message.split(";")[0]
    return (
        f"rolemodel {command}: no router answers at {target} ({why}); start one with 'rolemodel serve' "
        "(or 'rolemodel demo'), or point --target at yours"
    )


def _fail(error: RoleModelError, command: str, target: str) -> int:
    unreachable = _unreachable(command, target, error)
    if unreachable is not None:
        print(unreachable, file=sys.stderr)
        return EXIT_REFUSED
    print(f"refused: {error}", file=sys.stderr)
    shown = str(error)
    for path, description in error.field_violations:
        if f"{path}: {description}" not in shown:
            print(f"  {path}: {description}", file=sys.stderr)
    if error.decision is not None:
        console(stderr=True).print(decision_text(error.decision))
    return EXIT_REFUSED


def card(args: argparse.Namespace) -> int:
    try:
        with RouterClient(args.target) as client:
            result = client.get_router_card()
    except RoleModelError as error:
        return _fail(error, "card", args.target)
    if args.json:
        print(json_format.MessageToJson(result, preserving_proto_field_name=True))
    else:
        console().print(card_text(result))
    return 0


def _conversation(args: argparse.Namespace) -> conversation_pb2.ConversationRef:
    conversation_id = args.conversation or f"cli-{uuid.uuid4().hex[:12]}"
    messages: list[conversation_pb2.Message] = []
    counts: list[int] = []
    if args.history_tokens:
        messages.append(text_message("system", f"[{args.history_tokens} tokens of earlier conversation]"))
        counts.append(args.history_tokens)
    if args.tokens is not None:
        messages.append(text_message("user", args.text or "[a message]"))
        counts.append(args.tokens)
        ref = conversation_ref(conversation_id, messages, turn_index=args.turn, token_counts=counts)
        return ref
    messages.append(text_message("user", args.text or "hello"))
    ref = conversation_ref(conversation_id, messages, turn_index=args.turn, include_messages=True)
    if args.history_tokens:
        ref.messages[0].token_count = args.history_tokens
        ref.messages[0].ClearField("message")
        ref.messages[0].digest = digest_chain(messages[:1])[0]
    return ref


def _hints(args: argparse.Namespace) -> hints_pb2.RoutingHints:
    hints = hints_pb2.RoutingHints(role=args.role)
    if args.difficulty is not None:
        hints.difficulty = args.difficulty
    if args.strategy:
        hints.strategy = common_pb2.Strategy.Value(f"STRATEGY_{args.strategy.upper()}")
    if args.pin:
        hints.endpoint_choice.pinned_endpoint_id = args.pin
    hints.endpoint_choice.avoid_endpoint_ids.extend(args.avoid)
    if args.locality:
        hints.locality = common_pb2.Locality.Value(f"LOCALITY_{args.locality.upper()}")
    if args.expected_output is not None:
        hints.expected_output_tokens = args.expected_output
    if args.side_request:
        hints.side_request.merge_back = args.side_request == "merge"
    for key, value in args.label:
        hints.labels[key] = value
    return hints


def route(args: argparse.Namespace) -> int:
    request = router_service_pb2.RouteRequest(
        conversation=_conversation(args), hints=_hints(args), dry_run=args.dry_run
    )
    try:
        with RouterClient(args.target) as client:
            decision = client.route(request)
    except RoleModelError as error:
        return _fail(error, "route", args.target)
    if args.json:
        print(json_format.MessageToJson(decision, preserving_proto_field_name=True))
    else:
        console().print(decision_text(decision))
    return 0
