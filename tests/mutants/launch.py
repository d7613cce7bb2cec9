"""Start the reference router with one mutant's violation injected.

    python -m tests.mutants.launch MUTANT serve --catalog ... --listen 127.0.0.1:0

The mutant patches one function of ``rolemodel_router`` (or of the SDK code
the router calls) in this process, then the normal ``rolemodel`` entry point
runs. Nothing under ``reference/`` is edited.
"""

from __future__ import annotations

import sys

from tests.mutants.all_mutants import MUTANTS


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in MUTANTS:
        print(f"usage: launch MUTANT serve ...; mutants: {', '.join(sorted(MUTANTS))}", file=sys.stderr)
        return 2
    MUTANTS[argv[0]].apply()
    from rolemodel_router.cli.main import main as rolemodel_main

    return rolemodel_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
