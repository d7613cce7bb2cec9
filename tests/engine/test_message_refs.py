"""Validation of each message reference (spec 4.2 and 5.2): what a reference must carry, and how it is counted.

Validation reads, once per message, whether the reference came with content and with a token count,
and both the checks and the counting rely on that reading; these tests pin what each combination
gives, in one request with every kind of broken reference and in one valid mix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel.conversation import text_message
from rolemodel.digest import digest_chain
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import hints_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.limits import MAX_COUNT_TOKENS, Limits
from rolemodel_router.engine.route_input import build_route_input

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))


def request_of(refs: list[c.MessageRef]) -> router_service_pb2.RouteRequest:
    conv = c.ConversationRef(conversation_id="refs", turn_index=len(refs), messages=refs)
    return router_service_pb2.RouteRequest(conversation=conv, hints=hints_pb2.RoutingHints(role="chat"))


def test_every_broken_reference_is_named_with_its_field() -> None:
    digests = digest_chain([text_message("user", f"message {i}") for i in range(4)])
    refs = [
        c.MessageRef(digest=digests[0], token_count=10),  # fine
        c.MessageRef(),  # neither a digest nor content, and no count
        c.MessageRef(digest=digests[2][:5], token_count=10),  # a digest of the wrong size
        c.MessageRef(digest=digests[3], token_count=MAX_COUNT_TOKENS + 1),  # a count above the limit
    ]
    with pytest.raises(RouterError) as raised:
        build_route_input(request_of(refs), FIXTURE, Limits())
    assert raised.value.reason is ErrorReason.REQUEST_INVALID
    assert [(v.field, v.description) for v in raised.value.violations] == [
        ("conversation.messages[1]", "needs a digest or the message content"),
        ("conversation.messages[1].token_count", "needs a token count or the message content"),
        ("conversation.messages[2].digest", "a digest has 32 bytes, got 5"),
        ("conversation.messages[3].token_count", f"above {MAX_COUNT_TOKENS}"),
    ]


def test_a_count_is_taken_as_given_and_content_without_one_is_estimated() -> None:
    messages = [text_message("system", "Be brief."), text_message("user", "Hello there"), text_message("user", "Bye")]
    digests = digest_chain(messages)
    refs = [
        c.MessageRef(digest=digests[0], token_count=40),  # by digest, counted
        c.MessageRef(digest=digests[1], message=messages[1]),  # content, no count: estimated
        c.MessageRef(digest=digests[2], message=messages[2], token_count=5),  # content and count: the count
    ]
    built = build_route_input(request_of(refs), FIXTURE, Limits())
    estimated = built.cumulative_tokens[1] - 40
    assert estimated > 0
    assert built.cumulative_tokens == (40, 40 + estimated, 45 + estimated)
    assert built.estimated_messages == 1
    assert tuple(built.digests) == tuple(digests)
    assert built.messages == ()  # the first message came without content
