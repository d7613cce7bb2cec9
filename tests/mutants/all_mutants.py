"""Every mutant, by name: the first round (catalogue.py), the second (two_sided.py) and the later ones."""

from __future__ import annotations

from tests.mutants.attempts import ATTEMPTS
from tests.mutants.catalogue import MUTANTS as FIRST_ROUND
from tests.mutants.catalogue import Mutant
from tests.mutants.subscriptions import SUBSCRIPTIONS
from tests.mutants.two_sided import TWO_SIDED

MUTANTS: dict[str, Mutant] = {**FIRST_ROUND, **TWO_SIDED, **SUBSCRIPTIONS, **ATTEMPTS}
