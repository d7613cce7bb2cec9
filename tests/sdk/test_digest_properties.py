"""Properties of the canonical serialisation and the digest chain."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.digest import ZERO_DIGEST, canonical_message, chain, digest_chain
from rolemodel.v1 import conversation_pb2
from tests.strategies import conversations, messages

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors" / "digest.json"
NODE_CHECK = Path(__file__).resolve().parent / "digest_check.mjs"


@given(messages())
def test_canonical_form_is_compact_sorted_json(message: conversation_pb2.Message) -> None:
    text = canonical_message(message).decode()
    document = json.loads(text)
    assert json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True) == text
    assert set(document) == {"parts", "role"}


@given(conversations, conversations)
def test_the_chain_of_a_prefix_is_a_prefix_of_the_chain(
    head: list[conversation_pb2.Message], tail: list[conversation_pb2.Message]
) -> None:
    assert digest_chain(head + tail)[: len(head)] == digest_chain(head)


@given(conversations, messages())
def test_changing_one_message_changes_every_later_digest(
    conv: list[conversation_pb2.Message], other: conversation_pb2.Message
) -> None:
    index = len(conv) // 2
    if canonical_message(conv[index]) == canonical_message(other):
        return
    changed = list(conv)
    changed[index] = other
    before, after = digest_chain(conv), digest_chain(changed)
    assert before[:index] == after[:index]
    assert all(a != b for a, b in zip(before[index:], after[index:], strict=True))


@given(messages(), st.text(max_size=20), st.text(max_size=20))
def test_fields_that_never_reach_the_model_do_not_change_the_digest(
    message: conversation_pb2.Message, origin: str, response_id: str
) -> None:
    decorated = conversation_pb2.Message()
    decorated.CopyFrom(message)
    decorated.origin_endpoint_id = origin
    decorated.provider_response_id = response_id
    for part in decorated.parts:
        part.cache_breakpoint.ttl_seconds = 300
        if part.HasField("image"):
            part.image.description = "described"
    assert chain(ZERO_DIGEST, decorated) == chain(ZERO_DIGEST, message)


def test_a_message_without_a_role_has_no_canonical_form() -> None:
    with pytest.raises(ValueError, match="role"):
        canonical_message(conversation_pb2.Message())


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_an_independent_javascript_implementation_reproduces_the_vectors() -> None:
    """The chain is reproducible in another language from the spec text alone."""
    result = subprocess.run(["node", str(NODE_CHECK), str(VECTORS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all digest vectors reproduced" in result.stdout
