"""What the front door's hot path imports on every request is a declared dependency of the router.

httpcore looks up which async library is running, through sniffio, on each request; without
sniffio installed it tries the import again every time, and that failing import cost the front
door about 15% of its CPU. anyio stopped bringing sniffio, so the router must ask for it itself.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import re

import sniffio

HOT_PATH_MODULES = {"sniffio"}


def _router_requirements() -> set[str]:
    names = set()
    for requirement in importlib.metadata.requires("rolemodel-protocol") or []:
        if re.search(r"""extra\s*==\s*["']router["']""", requirement):
            names.add(re.split(r"[<>=!~; \[]", requirement, maxsplit=1)[0].lower())
    return names


def test_the_router_extra_declares_what_httpcore_imports_per_request() -> None:
    assert _router_requirements() >= HOT_PATH_MODULES


def test_httpcore_finds_sniffio_inside_the_event_loop() -> None:
    async def which() -> str:
        return sniffio.current_async_library()

    assert asyncio.run(which()) == "asyncio"
