"""Argument types that refuse impossible values at the command line, with argparse's one-line usage error.

A negative token count or a zero sweep interval would otherwise reach deep code and end in a traceback
(``ValueError: Value out of range``) or a busy loop; argparse turns the ValueError raised here into
``rolemodel route: error: argument --tokens: ...`` and exit 2.
"""

from __future__ import annotations

import argparse
import math


def count(text: str) -> int:
    """A whole number, zero or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def positive_count(text: str) -> int:
    """A whole number, one or more."""
    value = count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def seconds(text: str) -> float:
    """A duration, zero or more."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def positive_seconds(text: str) -> float:
    """A duration above zero."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def label(text: str) -> tuple[str, str]:
    """``KEY=VALUE``, with a key."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value
