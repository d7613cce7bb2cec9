"""``data:`` URLs (RFC 2397), the way OpenAI's ``image_url`` carries inline images.

The canonical ``ImagePart`` keeps inline images as bytes plus a media type, so that the digest
hashes the bytes and not one of many possible encodings of them. Only a data URL becomes bytes;
any other URL stays a URL.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes

from rolemodel.dialects.errors import DialectError


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def parse_data_url(url: str, *, path: str = "") -> tuple[str, bytes]:
    """(media type, bytes) of a data URL; raises :class:`DialectError` when it is malformed.

    Both base64 and percent-encoded payloads are accepted; parameters other than ``base64``
    (``charset`` and the like) are dropped, because an image's media type has none that matter.
    """
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise DialectError("a data URL needs a comma before its payload", path=path)
    fields = [f.strip() for f in header.split(";")]
    media_type = fields[0].lower() if fields and fields[0] else "text/plain"
    if any(f.lower() == "base64" for f in fields[1:]):
        try:
            return media_type, base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise DialectError("the data URL's base64 payload is malformed", path=path) from None
    return media_type, unquote_to_bytes(payload)


def format_data_url(media_type: str, data: bytes) -> str:
    """A base64 data URL, the form every provider accepts."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"
