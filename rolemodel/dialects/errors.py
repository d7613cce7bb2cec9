"""Typed errors of the dialect codecs.

Decoders read JSON that came over the network, from a client or from a provider, so every
shape problem is a :class:`DialectError` that names where in the payload it was found. An HTTP
boundary maps it to its own 400-style answer; nothing below that boundary catches it.
"""

from __future__ import annotations


class DialectError(ValueError):
    """A payload does not follow its dialect, or a canonical message holds what the dialect cannot carry.

    ``path`` locates the problem in the payload (``messages[2].content[0].image_url``); it is
    empty when the problem concerns the whole payload or a canonical value.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


class IncompleteStreamError(DialectError):
    """A stream ended before it said how it finished: the connection was cut or the provider stopped.

    The deltas decoded so far are still available from the decoder, for error reports.
    """


class ProviderStreamError(Exception):
    """The provider reported an error inside a stream that had already started.

    Anthropic sends an ``error`` event (for example ``overloaded_error``) and OpenAI-compatible
    servers send a chunk with an ``error`` object. Either way the answer is unusable, and the
    caller treats it like a failure after the first token.
    """

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}" if error_type else message)
        self.error_type = error_type
        self.message = message
