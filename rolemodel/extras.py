"""Name the extra to install when a program of this distribution lacks one of its dependencies.

The SDK alone (``pip install rolemodel-protocol``) installs grpcio, protobuf and googleapis-common-protos;
the router and the conformance suite need their extras. Their command-line entry points start here,
with nothing imported but the standard library and the SDK, so that a partial install ends in one line
that says which extra to install, instead of a ModuleNotFoundError traceback from deep inside.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

#: Exit code of a program that cannot run because an extra is not installed.
EXIT_MISSING_EXTRA = 3
OWN_PACKAGES = frozenset({"rolemodel", "rolemodel_router", "rolemodel_conformance"})


def run_with_extra(program: str, extra: str, load: Callable[[], Callable[[], int]]) -> int:
    """Load ``program``'s real entry point and run it; a missing third-party module names ``extra``.

    Only a module outside this distribution counts: a missing module of our own is a packaging bug and
    keeps its traceback.
    """
    try:
        return load()()
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if not missing or missing in OWN_PACKAGES:
            raise
        print(
            f"{program}: the {extra} extra is not installed (no module named {missing!r}); "
            f"install it with: pip install 'rolemodel-protocol[{extra}]'",
            file=sys.stderr,
        )
        return EXIT_MISSING_EXTRA
