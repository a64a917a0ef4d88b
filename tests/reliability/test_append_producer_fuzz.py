"""Any sequence of open / append / close / fail on an AppendProducer gives the documented error
at each wrong step, and every consumer ends with exactly what was appended — never a hang."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from miniagents_lc import (
    AppendClosedError,
    AppendNotOpenError,
    AppendProducer,
    PromisingContext,
    StreamedPromise,
)

_OPERATIONS = st.lists(st.sampled_from(["open", "append", "close", "fail"]), max_size=25)


class _Boom(Exception):
    pass


@settings(max_examples=150, deadline=None)
@given(operations=_OPERATIONS)
def test_every_operation_sequence_gives_documented_errors_and_a_stream_that_ends(
    operations: list[str],
) -> None:
    async def scenario() -> None:
        async with PromisingContext():
            producer: AppendProducer[int] = AppendProducer()
            stream: StreamedPromise[int, tuple[int, ...]] = StreamedPromise(producer=producer)
            state, appended, failure = "new", [], None
            for number, operation in enumerate(operations):
                if operation == "open":
                    if state == "closed":
                        try:
                            producer.open()
                        except AppendClosedError:
                            continue
                        raise AssertionError("reopening a closed producer must fail")
                    producer.open()
                    state = "open"
                elif operation == "append":
                    expected = {"new": AppendNotOpenError, "closed": AppendClosedError}.get(state)
                    if expected is None:
                        producer.append(number)
                        appended.append(number)
                        continue
                    try:
                        producer.append(number)
                    except expected:
                        continue
                    raise AssertionError(f"append in state {state} must raise {expected}")
                elif operation == "close":
                    producer.close()
                    state = "closed"
                else:
                    error = _Boom(number)
                    if state != "closed":
                        failure = error
                    producer.close(error)
                    state = "closed"
            producer.close()

            received: list[int] = []
            raised: BaseException | None = None
            try:
                async with asyncio.timeout(2):
                    async for piece in stream:
                        received.append(piece)
            except _Boom as error:
                raised = error
            assert received == appended
            assert raised is failure

    asyncio.run(scenario())
