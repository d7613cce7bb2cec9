"""What Execute records from a llama.cpp answer: the cache from usage or timings, and measured speeds (spec 10.4)."""

from __future__ import annotations

from rolemodel.dialects.canonical import CanonicalRequest, Completion, ServerTimings
from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, outcome_pb2
from rolemodel_router.execute.dialect import Dialect
from rolemodel_router.execute.recording import add_measured_speeds, usage_from_timings

ANSWER = conversation_pb2.Message(role=conversation_pb2.MESSAGE_ROLE_ASSISTANT)


def _timings(prefilled: int, output: int) -> ServerTimings:
    return ServerTimings(
        cached_tokens=1000,
        prefilled_tokens=prefilled,
        prefill_tokens_per_second=5_000.0,
        output_tokens=output,
        output_tokens_per_second=90.0,
    )


def test_the_usage_wins_and_timings_fill_what_it_lacks() -> None:
    reported = outcome_pb2.Usage(input_tokens=1200, cache_read_tokens=1100, output_tokens=16)
    with_both = Completion(ANSWER, "stop", usage=reported, timings=_timings(200, 16))
    assert usage_from_timings(with_both) == reported
    no_cache = Completion(ANSWER, "stop", usage=outcome_pb2.Usage(input_tokens=1200, output_tokens=16))
    no_cache.timings = _timings(200, 16)
    assert usage_from_timings(no_cache).cache_read_tokens == 1000  # type: ignore[union-attr]
    only_timings = Completion(ANSWER, "stop", timings=_timings(200, 16))
    assert usage_from_timings(only_timings) == outcome_pb2.Usage(
        input_tokens=1200, cache_read_tokens=1000, output_tokens=16
    )


def test_speeds_are_recorded_only_from_long_enough_runs() -> None:
    measured = outcome_pb2.Outcome()
    add_measured_speeds(measured, _timings(200, 16))
    assert (measured.prefill_tokens_per_second, measured.output_tokens_per_second) == (5_000.0, 90.0)
    short = outcome_pb2.Outcome()
    add_measured_speeds(short, _timings(12, 3))
    assert (short.prefill_tokens_per_second, short.output_tokens_per_second) == (0.0, 0.0)


def test_a_llama_cpp_request_keeps_its_prompt_cached_and_names_its_slot() -> None:
    endpoint = catalog_pb2.Endpoint(
        model="tiny",
        provider_kind=common_pb2.PROVIDER_KIND_OPENAI_COMPATIBLE,
        connection=catalog_pb2.EndpointConnection(
            base_url="http://127.0.0.1:8081/v1", api_dialect=common_pb2.API_DIALECT_LLAMA_CPP
        ),
    )
    request = CanonicalRequest(model="tiny", messages=[ANSWER])
    body = Dialect.of(endpoint).encode(request, slot=1)
    assert (body["cache_prompt"], body["id_slot"]) == (True, 1)
    assert "id_slot" not in Dialect.of(endpoint).encode(request)
    openai = catalog_pb2.Endpoint(model="tiny", provider_kind=common_pb2.PROVIDER_KIND_OPENAI_COMPATIBLE)
    assert "cache_prompt" not in Dialect.of(openai).encode(request, slot=1)
