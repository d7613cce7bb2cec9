"""Run the cases of a slow parametrised test side by side, ahead of pytest reaching each one.

A conformance run against a router process spends most of its time waiting:
for cache entries to expire, deadlines to pass, cooldowns to end, a router to
start. Measured on one run of the whole suite, the router and the suite
together used 18 s of CPU in 92 s of wall time. Running a few such cases at
once therefore costs little CPU and saves minutes, while each case keeps its
own test item, its own verdict and its own failure message.

The cases are those pytest selected (``-k`` and node ids are honoured): the
first case to run submits all of its siblings to a small pool, and each case
then waits for its own result. Only a few run at a time, so that the suite's
timing tolerances (100 ms for a deadline, for instance) hold on a 2-core
machine.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

import pytest

Key = TypeVar("Key", bound=Hashable)
Result = TypeVar("Result")

#: Cases in flight at once. Three keeps a 2-core machine busy without starving the suite's timing checks.
AT_ONCE = 3


class SideBySide(Generic[Key, Result]):
    """Results of ``work`` for each key, computed by a pool that started on all of them at once."""

    def __init__(self, futures: dict[Key, Future[Result]]) -> None:
        self._futures = futures

    def result(self, key: Key) -> Result:
        """This case's result; its exception, if ``work`` raised, is raised here, inside its own test."""
        return self._futures[key].result()


def selected_keys(request: pytest.FixtureRequest, test_name: str, param: str) -> list[str]:
    """The values of ``param`` in the cases of ``test_name`` that this session will run, in order."""
    keys: list[str] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "originalname", None) == test_name and callspec is not None:
            keys.append(str(callspec.params[param]))
    return keys


@contextmanager
def side_by_side(
    keys: list[Key], work: Callable[[Key], Result], at_once: int = AT_ONCE
) -> Iterator[SideBySide[Key, Result]]:
    """Start ``work(key)`` for every key on a pool of ``at_once`` threads; cancel what is left on exit."""
    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="side-by-side")
    try:
        yield SideBySide({key: pool.submit(work, key) for key in keys})
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
