"""The `rolemodel` command: serve a router, ask it for decisions, show its card."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rolemodel", description="The role-model protocol's reference router.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the reference router")
    parser.parse_args(argv)
    print("The reference router is not there yet; the protocol, spec and SDK are.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
