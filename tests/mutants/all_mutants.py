"""Every mutant by name: the first round, the second (two_sided.py), and the later rounds, one file each."""

from __future__ import annotations

from tests.mutants.attempts import ATTEMPTS
from tests.mutants.catalogue import MUTANTS as FIRST_ROUND
from tests.mutants.catalogue import Mutant
from tests.mutants.durability import DURABILITY
from tests.mutants.front_door import FRONT_DOOR
from tests.mutants.front_door_requests import FRONT_DOOR_REQUESTS
from tests.mutants.responses import RESPONSES
from tests.mutants.settled import SETTLED
from tests.mutants.subscriptions import SUBSCRIPTIONS
from tests.mutants.tenancy import TENANCY
from tests.mutants.two_sided import TWO_SIDED
from tests.mutants.unguarded import UNGUARDED

MUTANTS: dict[str, Mutant] = {
    **FIRST_ROUND,
    **TWO_SIDED,
    **SUBSCRIPTIONS,
    **FRONT_DOOR,
    **DURABILITY,
    **ATTEMPTS,
    **SETTLED,
    **TENANCY,
    **UNGUARDED,
    **FRONT_DOOR_REQUESTS,
    **RESPONSES,
}
