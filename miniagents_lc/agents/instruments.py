"""The instrument seam: one object with optional hooks that learns what an agent tree does.

It is the only way a layer above the agents follows their work: the protocol's event mapping
(its own v3 streams and a surrounding LangGraph v3 stream), the per-agent usage of a run, the
OpenTelemetry, AG-UI and A2A layers all plug in here. Nothing is installed at import time.

An `Instrument` is told when an agent call is created and when it starts and finishes (with
the call that triggered it, so nesting is known although every call runs in a task of its own),
when a message of a call's reply starts and finishes, when a model call made
by a model agent (`chat_model_agent`, the OpenAI and Anthropic adapters) starts and finishes
(model, provider, usage with cache and reasoning tokens, finish reason, response id, time to
first chunk), when a tool runs (`tool_agent`, an agent used as a tool) and when a traced run
ends, with its usage. Every hook gets public objects only and does nothing by default:
subclass and override what you need (as trio's `Instrument` and httpx's `event_hooks`).

Instruments are registered explicitly, in three ways that add up:

- for a whole application context: `MiniAgents(instruments=[...])`;
- for a scope of code: `with instrumented(my_instrument): ...` (the calls created inside it,
  and every call they trigger, report to it);
- for one LangChain run: `agent.ainvoke(x, {"configurable": {INSTRUMENTS_KEY: [...]}})`.

A call's instruments are fixed when it is created (its parent's, plus those of the scope it is
created in); with none registered anywhere, a call pays one check per hook site. Hooks run
synchronously where the event happens: `call_created` in the task creating the call, before it
starts (where a follower of the tree learns of it in time for its first piece of reply);
`call_started` in the call's own task, before its
agent function (an instrument may set context variables there, which last as long as the
function: the OpenTelemetry instrument makes the call's span current so); model hooks in the
task producing the model's message. A hook that raises is logged and ignored: instruments
watch, they never break the agents they watch.

Messages: `message_started(call, promise)` tells of each message of a call's reply, once, for
the call whose reply held it first (the call that produced it; the calls above it that pass
it on are not told again); `message_finished(call, message, error)` when its stream has ended.
Replies are followed only for calls with an instrument that overrides one of these two hooks,
so other instruments (OpenTelemetry's) cost nothing per message; likewise the end of a call's
reply is waited for only when an instrument overrides `call_finished`. There is no token hook: an
instrument that wants a message's tokens follows the promise it got in `message_started`, in
batches (`promising.lowlevel.Onlooker`, or a `Wakeup` on its `buffer_of`), which reads
without being a reader and costs the producer nothing per token while nobody follows.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import UsageMetadata
from langchain_core.runnables import RunnableConfig

from miniagents_lc.promising.lowlevel import Claims, StreamBuffer, assembled_whole, buffer_of

if TYPE_CHECKING:
    from miniagents_lc.agents.agent import MiniAgent
    from miniagents_lc.agents.call import AgentCall
    from miniagents_lc.agents.interaction import InteractionContext
    from miniagents_lc.messages import Message, MessagePromise

logger = logging.getLogger("miniagents_lc")

INSTRUMENTS_KEY = "miniagents_instruments"
"""The key in a run config's `configurable` whose value (a list of `Instrument`s) instruments
that one run: `{"configurable": {INSTRUMENTS_KEY: [my_instrument]}}`."""


@dataclass(eq=False)
class ModelCall:
    """One call of a model by a model agent, filled in as it goes: what `model_call_started`
    sees is the request; by `model_call_finished` the response fields are set (those the
    provider reported; `None` otherwise). Times are `time.perf_counter()` seconds."""

    call: AgentCall
    """The agent call that made the model call."""
    provider: str
    """The provider, as the GenAI semantic conventions name it (`"openai"`, `"anthropic"`),
    or the LangChain model's class for `chat_model_agent`."""
    request_model: str | None
    """The model asked for (`None` when the agent does not know it before the reply)."""
    input_messages: tuple[Message, ...] = ()
    """The messages sent to the model (instruments that record content read them)."""
    response_model: str | None = None
    response_id: str | None = None
    finish_reason: str | None = None
    usage: UsageMetadata | None = None
    """The provider's usage of this call; cache reads and writes inside `input_tokens` and in
    `input_token_details`, reasoning tokens in `output_token_details`."""
    output_text: str = ""
    """The text the model streamed."""
    started_at: float = field(default_factory=time.perf_counter)
    time_to_first_chunk: float | None = None
    """Seconds from the start to the first text chunk (`None` if no text came)."""
    duration: float | None = None


@dataclass(eq=False)
class ToolRun:
    """One tool call run by `tool_agent` or by an agent used as a LangChain tool."""

    call: AgentCall | None
    """The agent call that asked for the tool (`None` outside any agent call)."""
    name: str
    call_id: str | None
    arguments: Mapping[str, Any]
    result: str | None = None
    """The tool's text result, once it has one."""
    started_at: float = field(default_factory=time.perf_counter)
    duration: float | None = None


class Instrument:
    """Optional hooks called as an agent tree runs; each does nothing unless overridden."""

    def call_created(self, call: AgentCall) -> None:
        """`call` was just made, in the task that made it (`call.parent` is the call whose code
        made it, if any), before its agent function starts and before anything is replied."""

    def message_started(self, call: AgentCall, promise: MessagePromise) -> None:
        """A message first appears in `call`'s reply (`call` produced it, or took it from its
        input): `promise` streams its tokens; follow it to see them."""

    def message_finished(
        self, call: AgentCall, message: Message | None, error: BaseException | None
    ) -> None:
        """A message `message_started` told of has ended: `message` is the whole message, or
        `None` when its stream ended with `error`."""

    def call_started(self, call: AgentCall) -> None:
        """`call`'s agent function starts (in the call's own task); `call.parent` is the call
        that triggered it."""

    def call_finished(self, call: AgentCall, error: BaseException | None) -> None:
        """`call` is over: its agent function has returned and its reply has ended (a reply
        handed on as promises streams on after the function returns). `error` is the one
        the function raised (a `CancelledError` when it was cancelled), else the one its
        reply ended with, else `None`. It runs wherever the reply ended."""

    def model_call_started(self, model_call: ModelCall) -> None:
        """A model agent sends its request."""

    def model_call_finished(self, model_call: ModelCall, error: BaseException | None) -> None:
        """The model's reply ended: its response fields, usage and timings are set."""

    def tool_call_started(self, tool_run: ToolRun) -> None:
        """A tool starts running."""

    def tool_call_finished(self, tool_run: ToolRun, error: BaseException | None) -> None:
        """A tool has its result (`tool_run.result`), or failed with `error`."""

    def run_finished(
        self, agent: MiniAgent, usage: UsageMetadata | None, error: BaseException | None
    ) -> None:
        """A traced run of `agent` (`astream`, `ainvoke`) ended, with its whole reply's usage."""


Instruments = tuple[Instrument, ...]

_scoped: contextvars.ContextVar[Instruments] = contextvars.ContextVar(
    "miniagents_lc_instruments", default=()
)


_tool_running: contextvars.ContextVar[ToolRun | None] = contextvars.ContextVar(
    "miniagents_lc_tool_running", default=None
)


def merged(first: Instruments, second: Sequence[Instrument]) -> Instruments:
    """`first` then the instruments of `second` it does not hold yet."""
    if not second:
        return first
    if not first:
        return tuple(second)
    return first + tuple(item for item in second if item not in first)


def checked(instruments: Sequence[Any], where: str) -> Instruments:
    """`instruments` as a tuple, once each; a clear error for anything not an `Instrument`."""
    for item in instruments:
        if not isinstance(item, Instrument):
            raise TypeError(
                f"{where} takes Instrument objects, got {item!r}: subclass "
                "miniagents_lc.Instrument and override the hooks you need."
            )
    return merged((), instruments)


@contextlib.contextmanager
def instrumented(*instruments: Instrument) -> Iterator[None]:
    """Report the agent calls created inside this block (and every call they trigger) to
    `instruments` as well."""
    token = _scoped.set(merged(_scoped.get(), checked(instruments, "instrumented()")))
    try:
        yield
    finally:
        _scoped.reset(token)


def scoped_instruments() -> Instruments:
    """The instruments of the scope the running code is in (`instrumented` blocks and the run
    it belongs to), outermost first."""
    return _scoped.get()


def instruments_of_config(config: RunnableConfig | None) -> Instruments:
    """The instruments a run config names under `INSTRUMENTS_KEY` (checked)."""
    configurable = config.get("configurable") if config else None
    given = configurable.get(INSTRUMENTS_KEY) if configurable else None
    if not given:
        return ()
    if isinstance(given, Instrument):
        given = [given]
    return checked(tuple(given), f"configurable[{INSTRUMENTS_KEY!r}]")


def enter_run_scope(config: RunnableConfig | None, own: Instrument | None = None) -> None:
    """Make the run config's instruments (and the run's `own` one) part of the current task's
    scope (a run's producer task calls this once; the tasks it starts inherit the scope)."""
    extra = instruments_of_config(config)
    if own is not None:
        extra = (*extra, own)
    if extra:
        _scoped.set(merged(_scoped.get(), extra))


def notify(instruments: Instruments, hook: str, *args: Any) -> None:
    """Call `hook` on each instrument; one that raises is logged and skipped."""
    for item in instruments:
        try:
            getattr(item, hook)(*args)
        except Exception:
            logger.exception("The instrument %r failed in %s", item, hook)


def report_created(call: AgentCall) -> None:
    """Tell `call`'s instruments it was made, and follow its reply if one of them wants its
    messages. The call creation path calls this only when the call has instruments."""
    instruments = call._instruments
    notify(instruments, "call_created", call)
    if overrides(instruments, "message_started") or overrides(instruments, "message_finished"):
        _ReplyWatch(call, instruments)


_overriding: dict[tuple[type[Instrument], str], bool] = {}


def overrides(instruments: Instruments, hook: str) -> bool:
    """Whether one of `instruments` overrides `hook` (known per class, once): the work of
    following something for a hook is skipped when nobody listens."""
    for item in instruments:
        key = (type(item), hook)
        wants = _overriding.get(key)
        if wants is None:
            wants = _overriding[key] = getattr(type(item), hook) is not getattr(Instrument, hook)
        if wants:
            return True
    return False


# The claims (the messages some call's reply held first) of each followed call whose reply has
# not ended, so that a call made below one shares them. Weakly, and naming no call: a call
# whose reply never ends (never started, never read) is not kept alive by it.
_claims_of: weakref.WeakKeyDictionary[AgentCall, set[MessagePromise]] = weakref.WeakKeyDictionary()


class _ReplyWatch:
    """Follows one call's reply without reading it: each message the reply holds first is
    `message_started` for the call (then `message_finished` at its end, if an instrument
    wants it), from the step that put it there (`Claims`), so a call sees its messages before
    the calls above it, which pass them on."""

    __slots__ = ("_call", "_claims", "_ends", "_instruments")

    def __init__(self, call: AgentCall, instruments: Instruments) -> None:
        parent = call.parent
        above = _claims_of.get(parent) if parent is not None else None
        claimed: set[MessagePromise] = above if above is not None else set()
        self._call = call
        self._instruments = instruments
        # A message's end is waited for only when an instrument listens for it.
        self._ends = overrides(instruments, "message_finished")
        buffer: StreamBuffer[MessagePromise] = buffer_of(call.reply_sequence(finish_call=False))
        self._claims = Claims(buffer, claimed, self._claimed, on_move=self._moved)
        _claims_of[call] = claimed
        self._claims.advance()
        self._moved()

    def _claimed(self, promise: MessagePromise) -> None:
        notify(self._instruments, "message_started", self._call, promise)
        if self._ends:
            _MessageEnd(self._call, self._instruments, promise)

    def _moved(self) -> None:
        if self._claims.ended:
            _claims_of.pop(self._call, None)


class _MessageEnd:
    """Waits for the end of one message (a buffer waiter, waiting again after each piece) and
    tells it with `message_finished`."""

    __slots__ = ("_buffer", "_call", "_instruments", "_promise")

    def __init__(self, call: AgentCall, instruments: Instruments, promise: MessagePromise):
        self._call = call
        self._instruments = instruments
        self._promise = promise
        self._buffer = buffer = buffer_of(promise)
        if buffer.done:
            self._finish()
        else:
            buffer.add_waiter(self)

    def done(self) -> bool:
        return False

    def set_result(self, _result: None, /) -> None:
        if self._buffer.done:
            self._finish()
        else:
            self._buffer.add_waiter(self)

    def _finish(self) -> None:
        error = self._buffer.error
        message: Message | None = None
        if error is None:
            try:
                message = assembled_whole(self._promise)
            except Exception as failed:  # a packaging that raises: the message failed
                error = failed
        notify(self._instruments, "message_finished", self._call, message, error)


def is_watched(ctx: InteractionContext) -> bool:
    """Whether instruments or budgets watch `ctx`'s call (a model agent may skip the work of
    reporting its model calls otherwise)."""
    call = ctx.call
    return bool(call._instruments or call._budgets)


def observe_model_call(
    ctx: InteractionContext,
    promise: MessagePromise,
    tokens: AsyncIterator[str],
    *,
    provider: str,
    request_model: str | None,
    input_messages: Sequence[Message] = (),
) -> AsyncIterator[str]:
    """`tokens` (the text a model streams into `promise`, an `AssistantMessage` promise) as
    a model call of `ctx`'s agent call that its instruments and budgets see: model agents wrap
    their token producer with it. The response fields are read from what the producer set on
    `promise` (`model_name`, `finish_reason`, `usage`, `id`) when it ends. With nothing
    watching the call, `tokens` itself is returned."""
    call = ctx.call
    if not call._instruments and not call._budgets:
        return tokens
    model_call = ModelCall(
        call=call,
        provider=provider,
        request_model=request_model,
        input_messages=tuple(input_messages),
    )
    return _observed(model_call, promise, tokens)


async def _observed(
    model_call: ModelCall, promise: MessagePromise, tokens: AsyncIterator[str]
) -> AsyncIterator[str]:
    call = model_call.call
    instruments = call._instruments
    notify(instruments, "model_call_started", model_call)
    pieces: list[str] = []
    error: BaseException | None = None
    try:
        async for token in tokens:
            if not pieces:
                model_call.time_to_first_chunk = time.perf_counter() - model_call.started_at
            pieces.append(token)
            yield token
    except BaseException as raised:
        error = raised
        raise
    finally:
        aclose = getattr(tokens, "aclose", None)
        if aclose is not None and error is not None:
            await aclose()
        fields = promise.fields
        model_call.duration = time.perf_counter() - model_call.started_at
        model_call.output_text = "".join(pieces)
        model_call.response_model = fields.get("model_name") or None
        model_call.response_id = fields.get("id") or None
        model_call.finish_reason = fields.get("finish_reason") or None
        usage = fields.get("usage")
        model_call.usage = usage if usage else None
        notify(instruments, "model_call_finished", model_call, error)
        for budget in call._budgets:
            budget.charge(model_call)


async def observe_tool_call(
    ctx: InteractionContext | None,
    name: str,
    call_id: str | None,
    arguments: Mapping[str, Any],
    result: Awaitable[str],
) -> str:
    """Await `result` (a tool's text result) as a tool call its agent call's instruments see
    (`ctx` is the calling agent's context; `None` outside any agent call: then the scope's
    instruments see it)."""
    call = ctx.call if ctx is not None else None
    instruments = call._instruments if call is not None else _scoped.get()
    outer = _tool_running.get()
    if not instruments or (outer is not None and outer.name == name and outer.call is call):
        # Nothing watches, or this is the same tool call reported already (a tool_agent
        # running an agent tool through its LangChain face).
        return await result
    tool_run = ToolRun(call=call, name=name, call_id=call_id, arguments=arguments)
    notify(instruments, "tool_call_started", tool_run)
    token = _tool_running.set(tool_run)
    try:
        text = await result
    except BaseException as error:
        tool_run.duration = time.perf_counter() - tool_run.started_at
        notify(instruments, "tool_call_finished", tool_run, error)
        raise
    finally:
        _tool_running.reset(token)
    tool_run.result = text
    tool_run.duration = time.perf_counter() - tool_run.started_at
    notify(instruments, "tool_call_finished", tool_run, None)
    return text


__all__ = [
    "INSTRUMENTS_KEY",
    "Instrument",
    "Instruments",
    "ModelCall",
    "ToolRun",
    "checked",
    "enter_run_scope",
    "instrumented",
    "instruments_of_config",
    "is_watched",
    "merged",
    "notify",
    "observe_model_call",
    "observe_tool_call",
    "overrides",
    "report_created",
    "scoped_instruments",
]
