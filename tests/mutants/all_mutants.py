"""Every mutant: the first round (catalogue.py) and the second (two_sided.py), by name."""

from __future__ import annotations

from tests.mutants.catalogue import MUTANTS as FIRST_ROUND
from tests.mutants.catalogue import Mutant
from tests.mutants.subscriptions import SUBSCRIPTIONS
from tests.mutants.two_sided import TWO_SIDED

MUTANTS: dict[str, Mutant] = {**FIRST_ROUND, **TWO_SIDED, **SUBSCRIPTIONS}
