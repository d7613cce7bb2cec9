"""A per-model prompt-prefix cache with TTLs, reporting cached tokens as the providers do.

Automatic mode (OpenAI, DeepSeek): every prompt of at least ``min_tokens`` is cached at every
message boundary. A request reads the longest live prefix that ends at one of its message
boundaries, counted in whole ``granularity`` steps and only from ``min_tokens`` on. Writes cost
nothing and are not reported (OpenAI reports only ``cached_tokens``).

Explicit mode (Anthropic): only prefixes that end at a cache breakpoint are written, and only
from ``min_tokens`` on. A request reads the longest live prefix that ends at a content block at
most ``LOOKBACK_BLOCKS`` (20) blocks before one of its breakpoints (Anthropic looks back that far
from each breakpoint for a hit, and no further), and writes the breakpoints beyond it: the write
is reported as the tokens from the hit to the last written breakpoint
(``cache_creation_input_tokens``), the read as ``cache_read_input_tokens``.

In both modes an entry lives ``ttl_seconds`` (a breakpoint's own TTL wins) after it was written,
and a hit restarts that time when ``refresh_on_hit`` is set. Prompts that only match inside a
message, not at one of these points, miss: the simulation works on message digests, not tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel.explicit_cache import FIVE_MINUTES, LOOKBACK_BLOCKS
from rolemodel_router.backends.scripted.cache_rules import CacheMode, CacheRules
from rolemodel_router.backends.scripted.prompt_layout import PrefixPoint, PromptLayout


@dataclass(frozen=True)
class CacheAccount:
    """What one request read from and wrote to the cache, in prompt tokens."""

    read: int = 0
    write: int = 0
    write_long_ttl: int = 0  # of ``write``, up to the last breakpoint with a TTL above five minutes


@dataclass
class _Entry:
    tokens: int
    expires_at: float
    ttl: float


class PrefixCache:
    """The cache entries of every model. Not thread-safe: the backend's state lock guards it."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[bytes, _Entry]] = {}

    def account(self, model: str, rules: CacheRules, layout: PromptLayout, now: float) -> CacheAccount:
        """Look the prompt up, update the entries, and say what was read and written."""
        if rules.mode == CacheMode.NONE:
            return CacheAccount()
        entries = self._live(model, now)
        if rules.mode == CacheMode.AUTOMATIC:
            return self._automatic(entries, rules, layout.message_points, now)
        return self._explicit(entries, rules, layout.part_points, now)

    def remember(self, model: str, rules: CacheRules, key: bytes, tokens: int, now: float) -> None:
        """Cache a prefix outright (the prompt plus the answer, for caches that include output)."""
        if rules.mode != CacheMode.NONE and tokens >= rules.min_tokens:
            self._live(model, now)[key] = _Entry(tokens, now + rules.ttl_seconds, rules.ttl_seconds)

    def cached_prefixes(self, model: str, now: float) -> list[tuple[int, float]]:
        """(tokens, expiry) of every live entry of ``model``, longest first; for tests and debugging."""
        return sorted(((e.tokens, e.expires_at) for e in self._live(model, now).values()), reverse=True)

    def clear(self) -> None:
        self._entries.clear()

    def _live(self, model: str, now: float) -> dict[bytes, _Entry]:
        entries = self._entries.setdefault(model, {})
        for key in [k for k, e in entries.items() if e.expires_at <= now]:
            del entries[key]
        return entries

    @staticmethod
    def _hit(entries: dict[bytes, _Entry], points: list[PrefixPoint]) -> PrefixPoint | None:
        hits = [p for p in points if p.key in entries]
        return max(hits, key=lambda p: p.tokens) if hits else None

    def _refresh(self, entries: dict[bytes, _Entry], hit: PrefixPoint | None, rules: CacheRules, now: float) -> None:
        if hit is not None and rules.refresh_on_hit:
            entry = entries[hit.key]
            entry.expires_at = now + entry.ttl

    def _automatic(
        self, entries: dict[bytes, _Entry], rules: CacheRules, points: list[PrefixPoint], now: float
    ) -> CacheAccount:
        hit = self._hit(entries, points)
        self._refresh(entries, hit, rules, now)
        matched = hit.tokens if hit else 0
        if points and points[-1].tokens >= rules.min_tokens:
            for point in points:
                if point.tokens > matched and point.tokens >= rules.min_tokens:
                    entries[point.key] = _Entry(point.tokens, now + rules.ttl_seconds, rules.ttl_seconds)
        return CacheAccount(read=rules.counted(matched))

    def _explicit(
        self, entries: dict[bytes, _Entry], rules: CacheRules, points: list[PrefixPoint], now: float
    ) -> CacheAccount:
        marks = [i for i, p in enumerate(points) if p.breakpoint_ttl is not None]
        if not marks:
            return CacheAccount()
        last = marks[-1]
        looked_at = [p for i, p in enumerate(points) if any(0 <= mark - i <= LOOKBACK_BLOCKS for mark in marks)]
        hit = self._hit(entries, looked_at)
        self._refresh(entries, hit, rules, now)
        matched = hit.tokens if hit else 0
        written = written_long = 0
        for point in points[: last + 1]:
            if point.breakpoint_ttl is None or point.tokens <= matched or point.tokens < rules.min_tokens:
                continue
            ttl = float(point.breakpoint_ttl) or rules.ttl_seconds
            entries[point.key] = _Entry(point.tokens, now + ttl, ttl)
            written = point.tokens
            if ttl > FIVE_MINUTES:
                written_long = point.tokens
        return CacheAccount(
            read=rules.counted(matched),
            write=written - matched if written else 0,
            write_long_ttl=written_long - matched if written_long else 0,
        )
