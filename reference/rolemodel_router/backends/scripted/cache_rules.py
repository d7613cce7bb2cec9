"""The prompt-cache rules of one scripted model, matching the catalog's ``CachingBehavior``.

Tests mirror a catalog endpoint with :meth:`CacheRules.from_catalog`, so that the cached tokens the
backend reports follow the same rules the router's cost model assumes. The presets follow the
providers' published behaviour (see the shared data README).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rolemodel.v1 import catalog_pb2


class CacheMode(StrEnum):
    #: Every prompt is cached without being asked (OpenAI, DeepSeek).
    AUTOMATIC = "automatic"
    #: Only prefixes that end at a ``cache_control`` breakpoint are cached (Anthropic).
    EXPLICIT = "explicit"
    NONE = "none"


@dataclass(frozen=True)
class CacheRules:
    """How a model caches prompt prefixes.

    ``min_tokens``: a shorter prefix is never cached. ``granularity``: cached reads count in whole
    multiples of it. ``ttl_seconds``: how long an entry lives after its last write, or its last
    hit when ``refresh_on_hit`` is set; an explicit breakpoint's own TTL takes precedence.
    ``includes_output``: the answer is cached too, so the next turn finds prompt plus answer.
    """

    mode: CacheMode = CacheMode.NONE
    min_tokens: int = 0
    granularity: int = 1
    ttl_seconds: float = 300.0
    refresh_on_hit: bool = True
    includes_output: bool = False

    def __post_init__(self) -> None:
        if self.min_tokens < 0 or self.granularity < 1 or self.ttl_seconds < 0:
            raise ValueError("cache rules need min_tokens >= 0, granularity >= 1 and ttl_seconds >= 0")

    @classmethod
    def openai(cls) -> CacheRules:
        """Automatic from 1,024 tokens in 128-token steps, about five idle minutes."""
        return cls(CacheMode.AUTOMATIC, min_tokens=1024, granularity=128, ttl_seconds=300)

    @classmethod
    def anthropic(cls) -> CacheRules:
        """Explicit breakpoints from 1,024 tokens, five minutes restarted by every hit."""
        return cls(CacheMode.EXPLICIT, min_tokens=1024, granularity=1, ttl_seconds=300)

    @classmethod
    def from_catalog(cls, caching: catalog_pb2.CachingBehavior) -> CacheRules:
        """The rules of a catalog endpoint; an unspecified mode is no cache, as in the cost model."""
        modes = {
            catalog_pb2.CACHE_MODE_AUTOMATIC: CacheMode.AUTOMATIC,
            catalog_pb2.CACHE_MODE_EXPLICIT: CacheMode.EXPLICIT,
        }
        return cls(
            mode=modes.get(caching.mode, CacheMode.NONE),
            min_tokens=caching.min_cacheable_tokens,
            granularity=caching.granularity_tokens or 1,
            ttl_seconds=float(caching.ttl_seconds),
            refresh_on_hit=caching.refresh_on_hit,
            includes_output=caching.includes_output,
        )

    def counted(self, tokens: int) -> int:
        """``tokens`` of matched prefix as the provider counts them: 0 below the minimum, else whole steps."""
        if tokens < self.min_tokens or tokens <= 0:
            return 0
        return tokens // self.granularity * self.granularity
