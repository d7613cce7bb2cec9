"""What an outcome changes in the servers' residents (spec 7.7, RM-CACHE-034 and RM-CACHE-035).

A decision admits its key to the chosen endpoint's residents when it is made, because that is
when the server will take the prompt. The outcome may show that it did not: the attempt failed
before the server processed anything (it reports no input tokens), or a fallback served the
turn. Then the admission is taken back, or the router would predict the conversations it
pushed out as evicted while the server still holds them; and the fallback that served now holds
the key, or the router would predict that conversation cold there on its next turn.

Taking back is exact when nothing was admitted to the endpoint since (the decision's key is
still the most recently used): the residents become what they were before the decision. When a
later decision has admitted since, its prediction already counted on this admission, so only
the decision's own key is put back as it was before; whom it evicted stays evicted.
"""

from __future__ import annotations

from collections.abc import Mapping

from rolemodel import cache_capacity
from rolemodel.cache_capacity import Resident
from rolemodel.v1 import outcome_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.route_input import FAILURE_CLASSES
from rolemodel_router.state.model import DecisionRecord

Occupancy = Mapping[str, tuple[Resident, ...]]


def took_the_prompt(record: DecisionRecord, outcome: outcome_pb2.Outcome) -> bool:
    """Whether the chosen endpoint processed the decision's prompt, by the outcome's account."""
    if outcome.served_endpoint_id != record.chosen_endpoint_id:
        return False
    return not (outcome.outcome_class in FAILURE_CLASSES and outcome.usage.input_tokens == 0)


def _taken_back(record: DecisionRecord, key: str, current: tuple[Resident, ...]) -> tuple[Resident, ...] | None:
    """The chosen endpoint's residents without this decision's admission; None when there is nothing to undo."""
    mine = cache_capacity.find(current, key)
    if mine is None or mine.last_used_ms != record.created_at_ms:
        return None  # evicted since, or admitted again by a later decision of the same key
    if current[-1] == mine:
        return record.residents_before
    before = cache_capacity.find(record.residents_before, key)
    others = tuple(r for r in current if r.key != key)
    return others if before is None else tuple(sorted((*others, before), key=cache_capacity.lru_order))


def residents_after_outcome(
    index: CatalogIndex, occupancy: Occupancy, record: DecisionRecord, outcome: outcome_pb2.Outcome, now_ms: int
) -> dict[str, tuple[Resident, ...]]:
    """The residents an outcome changes, by endpoint id; empty when it changes none."""
    if took_the_prompt(record, outcome):
        return {}
    key = cache_capacity.resident_key(record.conversation_id, side_request=not record.main_turn)
    changed: dict[str, tuple[Resident, ...]] = {}
    chosen = index.endpoints.get(record.chosen_endpoint_id)
    if chosen is not None and chosen.capacity.limited:
        taken_back = _taken_back(record, key, occupancy.get(record.chosen_endpoint_id, ()))
        if taken_back is not None:
            changed[record.chosen_endpoint_id] = taken_back
    served_id = outcome.served_endpoint_id
    served = index.endpoints.get(served_id)
    usage = outcome.usage
    fallback_took_it = usage.input_tokens > 0 or outcome.outcome_class not in FAILURE_CLASSES
    if served_id != record.chosen_endpoint_id and served is not None and served.capacity.limited and fallback_took_it:
        tokens = usage.input_tokens + usage.output_tokens or record.prompt_tokens + record.output_tokens
        admission = cache_capacity.admit(occupancy.get(served_id, ()), served.capacity, key, tokens, now_ms)
        changed[served_id] = admission.residents
    return changed
