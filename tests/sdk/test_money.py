"""Exact decimal prices and amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.money import amount_to_picos, format_picos, price_to_picos_per_token


@given(st.integers(min_value=0, max_value=10**9 - 1), st.integers(min_value=0, max_value=10**6 - 1), st.integers(1, 6))
def test_price_strings_parse_exactly(whole: int, frac: int, digits: int) -> None:
    frac_text = str(frac).zfill(6)[:digits]
    text = f"{whole}.{frac_text}"
    assert price_to_picos_per_token(text) == int(Decimal(text) * 10**6)


@pytest.mark.parametrize(
    ("text", "picos"), [("1.25", 1_250_000), ("0.028", 28_000), ("10", 10_000_000), ("0", 0), ("0.000001", 1)]
)
def test_price_examples_from_the_spec(text: str, picos: int) -> None:
    assert price_to_picos_per_token(text) == picos


@pytest.mark.parametrize("bad", ["", "-1", "1.", ".5", "1.2345678", "01", "1e3", " 1", "NaN", "1,5"])
def test_malformed_prices_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a price"):
        price_to_picos_per_token(bad)


@given(st.integers(min_value=0, max_value=10**9 - 1), st.integers(min_value=0, max_value=10**12 - 1))
def test_amounts_parse_exactly(whole: int, frac: int) -> None:
    text = f"{whole}.{str(frac).zfill(12)}"
    assert amount_to_picos(text) == int(Decimal(text) * 10**12)


def test_format_rounds_half_away_from_zero() -> None:
    assert format_picos(16_233_000_000) == "$0.016233"
    assert format_picos(3_283_600_000) == "$0.003284"
    assert format_picos(-500_000) == "-$0.000001"
    assert format_picos(1_000_000_000_000, "EUR", 2) == "1.00 EUR"
