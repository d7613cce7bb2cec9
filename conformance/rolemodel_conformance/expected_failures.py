"""The expected-failures file: known gaps of a router, listed so that CI stays green until they are fixed.

One requirement id per line; ``#`` starts a comment, which is the place for
the reason and a link to the issue:

    RM-QUOTA-002   # admission is not atomic yet, see issue 42

A listed requirement that fails does not fail the run. A listed requirement
that now passes fails the run as *stale*, so the list cannot quietly outlive
the bugs it excuses. An id that the registry does not know is a harness error,
so a typo cannot hide a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

from rolemodel_conformance.connect import HarnessError
from rolemodel_conformance.registry import requirements

ID = re.compile(r"^RM-[A-Z]+-[0-9]{3}$")


def parse(text: str, source: str = "expected-failures") -> frozenset[str]:
    """The ids listed in ``text``; raises HarnessError for a malformed line or an unknown id."""
    known = requirements()
    ids: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not ID.match(line):
            raise HarnessError(f"{source}:{number}: expected one requirement id per line, got {line!r}")
        if line not in known:
            raise HarnessError(f"{source}:{number}: {line} is not a requirement of the registry")
        ids.add(line)
    return frozenset(ids)


def load(path: Path) -> frozenset[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise HarnessError(f"cannot read the expected-failures file: {error}") from None
    return parse(text, str(path))
