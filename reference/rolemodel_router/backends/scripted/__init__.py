"""A scripted LLM backend: a real HTTP server that speaks the OpenAI and Anthropic dialects.

- ``POST /v1/chat/completions`` and ``POST /v1/messages``, streaming (SSE) and not, with usage
  blocks as each provider reports them; ``GET /v1/models``.
- Answers come from a per-model script of :class:`Reply` and :class:`Fault` steps, so every
  test knows what each turn returns (:class:`ScriptedBackend` in process, or
  ``python -m rolemodel_router.backends.scripted --script FILE`` as its own process).
- A prefix cache per model with TTLs (:class:`CacheRules`: automatic, explicit or none, minimum
  size, granularity, TTL, refresh on hit) decides the cached tokens it reports
  (see :mod:`.prefix_cache`).
- Faults on demand: 429 with Retry-After, 5xx, context overflow, a rejected request (400, 413,
  422), a hang, a cut after N deltas, invalid JSON, and an error event in the middle of a stream.
- Every request is recorded for assertions (:class:`RecordedRequest`), including whether its
  client gave up on a hang; ``/_scripted/*`` offers the same to other processes.

All wire translation goes through the SDK codecs in :mod:`rolemodel.dialects`.
"""

from rolemodel_router.backends.scripted.backend import ScriptedBackend
from rolemodel_router.backends.scripted.cache_rules import CacheMode, CacheRules
from rolemodel_router.backends.scripted.clock import SimulatedClock
from rolemodel_router.backends.scripted.recording import RecordedRequest
from rolemodel_router.backends.scripted.script import Fault, FaultKind, Reply, Step, ToolCall
from rolemodel_router.backends.scripted.script_file import ScriptError
from rolemodel_router.backends.scripted.subscription import Subscription

__all__ = [
    "CacheMode",
    "CacheRules",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "Reply",
    "ScriptError",
    "ScriptedBackend",
    "SimulatedClock",
    "Step",
    "Subscription",
    "ToolCall",
]
