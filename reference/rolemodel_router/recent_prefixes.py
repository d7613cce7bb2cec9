"""The messages the router verified last, per conversation: the memo behind incremental Routes.

The engine stays a pure function: it takes the conversation's last
:class:`~rolemodel_router.engine.verified_prefix.VerifiedPrefix` as an argument and returns the
new one. This memo, at the router's edge, keeps them between calls. It is a cache in the plain
sense: losing an entry (eviction, a restart, another replica or worker process serving the next
turn) costs one full verification and changes no answer, so it is neither persisted nor shared.

A prefix holds its conversation's serialized messages, so the memo is bounded by bytes as well
as by conversations, and forgets the least recently used first.
"""

from __future__ import annotations

from collections import OrderedDict

from rolemodel_router.engine.verified_prefix import VerifiedPrefix

#: Default budget: a few hundred long agent sessions, or thousands of ordinary conversations.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_CONVERSATIONS = 4096


class RecentPrefixes:
    """Least-recently-used prefixes by conversation id, within a byte and an entry budget."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_conversations: int = DEFAULT_MAX_CONVERSATIONS) -> None:
        self.max_bytes = max_bytes
        self.max_conversations = max_conversations
        self._entries: OrderedDict[str, VerifiedPrefix] = OrderedDict()
        self._bytes = 0
        #: Prefixes forgotten to stay within the budget, for the metrics.
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def memory_bytes(self) -> int:
        return self._bytes

    def get(self, conversation_id: str) -> VerifiedPrefix | None:
        prefix = self._entries.get(conversation_id)
        if prefix is not None:
            self._entries.move_to_end(conversation_id)
        return prefix

    def remember(self, prefix: VerifiedPrefix | None, key: str = "") -> None:
        """Keep ``prefix`` as its conversation's latest; one larger than the whole budget is not kept.

        ``key`` is the conversation's key in the principal's namespace (spec 12.5); by default
        the prefix's own conversation id.
        """
        if prefix is None:
            return
        key = key or prefix.conversation_id
        self._forget(key)
        if prefix.memory_bytes > self.max_bytes:
            return
        self._entries[key] = prefix
        self._bytes += prefix.memory_bytes
        while self._bytes > self.max_bytes or len(self._entries) > self.max_conversations:
            self._forget(next(iter(self._entries)))
            self.evictions += 1

    def _forget(self, conversation_id: str) -> None:
        old = self._entries.pop(conversation_id, None)
        if old is not None:
            self._bytes -= old.memory_bytes
