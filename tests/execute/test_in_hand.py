"""Batches of what is in hand: items that arrive together leave together, and nothing waits for more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from rolemodel_router.execute.in_hand import batches_in_hand


async def _arrivals(
    groups: list[list[str]], gate: asyncio.Queue[None], error: Exception | None = None
) -> AsyncIterator[str]:
    """Each group's items one by one with no wait between them; before each later group, one wait on ``gate``."""
    for number, group in enumerate(groups):
        if number:
            await gate.get()
        for item in group:
            yield item
    if error is not None:
        raise error


async def _read(groups: list[list[str]], error: Exception | None = None) -> tuple[list[list[str]], Exception | None]:
    gate: asyncio.Queue[None] = asyncio.Queue()
    batches: list[list[str]] = []
    try:
        async with aclosing(batches_in_hand(_arrivals(groups, gate, error))) as reading:
            async for batch in reading:
                batches.append(batch)
                gate.put_nowait(None)  # the next group arrives only once this batch is taken
    except ValueError as raised:
        return batches, raised
    return batches, None


def test_items_that_arrive_together_come_in_one_batch_and_later_ones_in_the_next() -> None:
    batches, error = asyncio.run(_read([["a", "b", "c"], ["d"], ["e", "f"]]))
    assert (batches, error) == ([["a", "b", "c"], ["d"], ["e", "f"]], None)


def test_an_error_of_the_stream_comes_after_the_items_before_it() -> None:
    batches, error = asyncio.run(_read([["a", "b"], ["c"]], ValueError("cut")))
    assert batches == [["a", "b"], ["c"]]
    assert isinstance(error, ValueError) and str(error) == "cut"


def test_closing_early_stops_the_reading_and_lets_it_clean_up() -> None:
    cleaned: list[bool] = []

    async def endless() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
                await asyncio.sleep(0)
        finally:
            await asyncio.sleep(0)  # clean-up may await, as httpx's does
            cleaned.append(True)

    async def first_batch() -> list[int]:
        async with aclosing(batches_in_hand(endless())) as reading:
            async for batch in reading:
                return batch
        pytest.fail("an endless stream ended")

    assert asyncio.run(first_batch()) == [1]
    assert cleaned == [True]


def test_a_reader_that_takes_nothing_holds_the_stream_back_at_the_limit() -> None:
    read: list[int] = []

    async def counted() -> AsyncIterator[int]:
        for n in range(100):
            read.append(n)
            yield n

    async def first_batch_then_wait() -> list[int]:
        async with aclosing(batches_in_hand(counted(), limit=8)) as reading:
            async for batch in reading:
                for _ in range(20):
                    await asyncio.sleep(0)  # the reading task runs while this batch is out, with nothing taken
                assert len(read) <= 2 * 8, f"read {len(read)} items ahead of a reader that took 8"
                return batch
        pytest.fail("the stream ended")

    assert len(asyncio.run(first_batch_then_wait())) <= 8


def test_batches_at_the_limit_still_bring_every_item_in_order() -> None:
    async def numbers() -> AsyncIterator[int]:
        for n in range(50):
            yield n

    async def everything() -> list[list[int]]:
        async with aclosing(batches_in_hand(numbers(), limit=4)) as reading:
            return [batch async for batch in reading]

    batches = asyncio.run(everything())
    assert [n for batch in batches for n in batch] == list(range(50))
    assert all(1 <= len(batch) <= 4 for batch in batches)
