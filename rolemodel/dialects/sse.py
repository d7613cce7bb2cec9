"""Server-Sent Events framing (the WHATWG ``text/event-stream`` format), both directions.

Both dialects stream over SSE: OpenAI sends ``data:`` lines only and ends with ``data: [DONE]``;
Anthropic names each event with an ``event:`` line. Bytes arrive from the network in arbitrary
pieces, so :class:`SSEParser` is incremental: a line, a CRLF pair or a multi-byte UTF-8 character
may be split between two reads. It follows the parsing rules of the HTML standard: lines end with
CRLF, LF or CR; a line starting with ``:`` is a comment (servers use them as keep-alives); a field
without a colon has an empty value; one space after the colon is dropped; ``data`` lines are
joined with LF; an event is dispatched at a blank line and only if it has data; a stream that
ends without a final blank line drops its last, incomplete event.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is empty when the stream gave no ``event:`` field."""

    data: str
    event: str = ""
    id: str = ""


def encode_event(data: str, *, event: str = "") -> bytes:
    """Frame one event: an optional ``event:`` line, one ``data:`` line per line of ``data``, a blank line.

    Raises ValueError when ``event`` contains a line break, which would start a new field.
    """
    if "\n" in event or "\r" in event:
        raise ValueError("an SSE event name cannot contain a line break")
    lines = [f"event: {event}"] if event else []
    lines.extend(f"data: {line}" for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


class SSEParser:
    """Incremental SSE parser: feed it bytes as they arrive, get back the complete events."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._started = False
        self._skip_lf = False
        self._data: list[str] = []
        self._event = ""
        self._last_id = ""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse ``chunk`` and return the events it completed, in order."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix(_BOM)
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        self._skip_lf = False
        self._buffer += text
        events: list[ServerSentEvent] = []
        buffer = self._buffer
        if "\r" not in buffer:  # lines end with LF only, as nearly every server sends them
            *lines, self._buffer = buffer.split("\n")
            for line in lines:
                self._line(line, events)
            return events
        position = 0
        length = len(buffer)
        while position < length:
            cr = buffer.find("\r", position)
            lf = buffer.find("\n", position)
            ends = [i for i in (cr, lf) if i >= 0]
            if not ends:
                break
            end = min(ends)
            line = buffer[position:end]
            position = end + 1
            if buffer[end] == "\r":
                if position < length and buffer[position] == "\n":
                    position += 1
                elif position == length:
                    self._skip_lf = True
            self._line(line, events)
        self._buffer = buffer[position:]
        return events

    def _line(self, line: str, events: list[ServerSentEvent]) -> None:
        if not line:
            if self._data:
                events.append(ServerSentEvent(data="\n".join(self._data), event=self._event, id=self._last_id))
            self._data = []
            self._event = ""
            return
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
