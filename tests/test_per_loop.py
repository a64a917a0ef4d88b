"""PerLoop: one resource per event loop, shared within it and closed when the loop ends."""

from __future__ import annotations

import asyncio

import pytest

from miniagents_lc.per_loop import PerLoop


class Resource:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False

    async def close(self) -> None:
        await asyncio.sleep(0)
        self.closed = True


def counting_per_loop() -> tuple[PerLoop[Resource], list[Resource]]:
    made: list[Resource] = []

    def make() -> Resource:
        made.append(Resource(len(made)))
        return made[-1]

    return PerLoop(make, Resource.close), made


def test_uses_in_one_loop_share_one_resource_which_is_closed_when_the_loop_ends() -> None:
    per_loop, made = counting_per_loop()

    async def main() -> list[Resource]:
        first = await per_loop.get()
        second, third = await asyncio.gather(per_loop.get(), per_loop.get())
        assert not first.closed
        return [first, second, third]

    got = asyncio.run(main())

    assert len(made) == 1
    assert got == [made[0]] * 3
    assert made[0].closed


def test_each_loop_gets_its_own_resource() -> None:
    per_loop, made = counting_per_loop()

    first = asyncio.run(per_loop.get())
    second = asyncio.run(per_loop.get())

    assert first is not second
    assert [resource.closed for resource in made] == [True, True]


def test_a_make_that_raises_keeps_nothing_and_the_next_use_tries_again() -> None:
    attempts: list[int] = []

    def make() -> Resource:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("no key")
        return Resource(len(attempts))

    per_loop = PerLoop(make, Resource.close)

    async def main() -> Resource:
        with pytest.raises(RuntimeError, match="no key"):
            await per_loop.get()
        return await per_loop.get()

    resource = asyncio.run(main())

    assert len(attempts) == 2
    assert resource.closed
