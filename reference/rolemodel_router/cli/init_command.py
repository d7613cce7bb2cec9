"""`rolemodel init`: write a commented starter catalog, then validate what was written.

The starters ship in the wheel (``rolemodel_router/data``), so a user who installed from an index, with no
clone, starts from the same commented files as a reader of the repository: the example catalog, one with
local models only, or one built around a subscription endpoint (spec 12.4).
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from rolemodel.cli_help import ArgumentParser
from rolemodel_router.cli.render import catalog_size
from rolemodel_router.config.catalog_loader import CatalogError, LoadedCatalog, load_catalog

EXIT_BAD_CONFIG = 2
EXAMPLE_HEADER = """\
# Written by `rolemodel init`. Edit it, check it with `rolemodel check-catalog FILE`, then serve it
# with `rolemodel serve --catalog FILE`. `rolemodel init --local-only` writes a catalog of local
# models only, `--with-subscription` one around a subscription endpoint.
#
"""


def starter_text(variant: str) -> str:
    """The commented catalog of ``variant``: ``example``, ``local-only`` or ``with-subscription``."""
    data = resources.files("rolemodel_router") / "data"
    if variant == "example":
        return EXAMPLE_HEADER + (data / "example_catalog.yaml").read_text()
    return (data / "starters" / f"{variant}.yaml").read_text()


def _next_steps(path: Path, loaded: LoadedCatalog) -> list[str]:
    catalog = loaded.catalog
    keys = sorted({e.connection.api_key_env for e in catalog.endpoints if e.connection.api_key_env})
    subscriptions = [e.id for e in catalog.endpoints if e.connection.client_credential_headers]
    lines = [
        f"wrote {path}: valid: {catalog_size(catalog)}",
        f"serve it:  rolemodel serve --catalog {path}",
    ]
    if keys:
        lines.append(f"for Execute, set the API keys it names: {', '.join(keys)}")
    if subscriptions:
        lines.append(
            f"{', '.join(subscriptions)} uses your client's own login (spec 12.4); "
            "serve with --http for Claude Code (docs/clients.md)"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    variant = "local-only" if args.local_only else "with-subscription" if args.with_subscription else "example"
    text = starter_text(variant)
    if str(args.file) == "-":
        sys.stdout.write(text)
        return 0
    path: Path = args.file
    if path.exists() and not args.force:
        print(f"rolemodel init: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        path.write_text(text)
    except OSError as error:
        print(f"rolemodel init: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        loaded = load_catalog(path)
    except CatalogError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    print("\n".join(_next_steps(path, loaded)))
    return 0


def add_parser(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    init = sub.add_parser(
        "init",
        help="write a commented starter catalog",
        description="Write a commented starter catalog to FILE and validate it: the bundled example (two local "
        "models and five remote ones at their public prices), with --local-only one of local models only, or "
        "with --with-subscription one whose hardest turns go to a subscription plan called with the client's "
        "own login. FILE '-' prints it instead. An existing FILE is kept unless --force.",
    )
    variant = init.add_mutually_exclusive_group()
    variant.add_argument("--local-only", action="store_true", help="local models only: nothing leaves this machine")
    variant.add_argument(
        "--with-subscription",
        action="store_true",
        help="a subscription endpoint (a Claude plan through Claude Code) next to a local and a cheap paid model",
    )
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.add_argument("file", type=Path, metavar="FILE", help="where to write the catalog ('-' for stdout)")
    init.set_defaults(run=run)
