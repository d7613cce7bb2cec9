"""Exact money: decimal strings in the catalog, integer picounits on the wire.

Prices are written as decimal strings of currency units per million tokens
("1.25"). One currency unit per million tokens is 10^-6 units per token,
which is 10^6 picounits (10^-12 units) per token. So a price string with at
most six fractional digits is an exact integer number of picounits per token,
and every cost is an exact integer: no rounding rule is needed anywhere in the
cost model (spec chapter 7).
"""

from __future__ import annotations

import re

PICOS_PER_UNIT = 10**12
_PRICE = re.compile(r"^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,6}))?$")
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,12}))?$")


def price_to_picos_per_token(price_per_mtok: str) -> int:
    """Picounits per token for a price in currency units per million tokens.

    Raises ValueError for anything but a non-negative decimal with at most six
    fractional digits: "1.25" is 1_250_000, "0.028" is 28_000. The empty string
    is not a price; callers decide what an absent price means.
    """
    match = _PRICE.match(price_per_mtok)
    if match is None:
        raise ValueError(f"not a price with at most 6 decimals: {price_per_mtok!r}")
    whole, frac = match.group(1), match.group(2) or ""
    return int(whole) * 10**6 + int(frac.ljust(6, "0"))


def amount_to_picos(amount: str) -> int:
    """Picounits for a decimal amount of currency units ("0.002" is 2_000_000_000)."""
    match = _AMOUNT.match(amount)
    if match is None:
        raise ValueError(f"not an amount with at most 12 decimals: {amount!r}")
    whole, frac = match.group(1), match.group(2) or ""
    return int(whole) * PICOS_PER_UNIT + int(frac.ljust(12, "0"))


def format_picos(picos: int, currency: str = "USD", decimals: int = 6) -> str:
    """Human form, rounded half away from zero: 16_233_000_000 -> "$0.016233"."""
    sign = "-" if picos < 0 else ""
    scale = 10 ** (12 - decimals)
    rounded = (abs(picos) + scale // 2) // scale
    whole, frac = divmod(rounded, 10**decimals)
    symbol = "$" if currency == "USD" else ""
    suffix = "" if symbol else f" {currency}"
    text = f"{whole}.{frac:0{decimals}d}" if decimals else str(whole)
    return f"{sign}{symbol}{text}{suffix}"
