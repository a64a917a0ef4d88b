"""Token and cost budgets per agent subtree.

A `Budget` given to `MiniAgents(budget=...)` (everything in the context), to an agent
(`@miniagent(budget=...)`, `agent.fork(budget=...)`: each call of it) or to one call
(`agent.trigger(..., budget=...)`) counts the usage the providers report for every model call
made in the subtree of that call, as each model reply ends. When the subtree goes over, only
that subtree is stopped: its calls are cancelled (a model reply already being read streams to
its end; no new one starts), and its reply ends, after the message that went over, with a
`BudgetExceededError` naming the call, the limit and the usage (with `errors_as_messages`, as
an `ErrorMessage`, once: the calls below it just end). Its siblings and its parent go on.
Budgets nest: every budget a call is under counts its usage, and whichever is spent first
stops its own subtree (the tighter one wins).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import UsageMetadata
from langchain_core.messages.ai import add_usage

if TYPE_CHECKING:
    from miniagents_lc.agents.call import AgentCall
    from miniagents_lc.agents.instruments import ModelCall


@dataclass(frozen=True)
class ModelPrice:
    """What a model charges, in any currency, per million input and output tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, usage: Mapping[str, Any]) -> float:
        """The cost of `usage` (`input_tokens`, `output_tokens`) at this price."""
        input_tokens: int = usage.get("input_tokens", 0)
        output_tokens: int = usage.get("output_tokens", 0)
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1_000_000


PriceTable = Mapping[str, ModelPrice]
"""Prices by model name, as the models report their names."""


@dataclass(frozen=True)
class Budget:
    """A limit on the tokens (`input + output`, as the providers report them) and/or the cost
    (with `prices` per model name) that one subtree of agent calls may spend."""

    max_tokens: int | None = None
    max_cost: float | None = None
    prices: PriceTable | None = None

    def __post_init__(self) -> None:
        if self.max_tokens is None and self.max_cost is None:
            raise ValueError("A Budget needs a limit: Budget(max_tokens=...) or max_cost=....")
        if self.max_tokens is not None and self.max_tokens < 0:
            raise ValueError(f"Budget max_tokens must be >= 0, got {self.max_tokens}.")
        if self.max_cost is not None and self.max_cost < 0:
            raise ValueError(f"Budget max_cost must be >= 0, got {self.max_cost}.")
        if self.max_cost is not None and not self.prices:
            raise ValueError(
                "Budget(max_cost=...) needs prices to turn tokens into cost: "
                "Budget(max_cost=..., prices={'model-name': ModelPrice(...)})."
            )

    def describe(self) -> str:
        """The limits in words (`max_tokens=100, max_cost=0.5`)."""
        parts = []
        if self.max_tokens is not None:
            parts.append(f"max_tokens={self.max_tokens}")
        if self.max_cost is not None:
            parts.append(f"max_cost={self.max_cost:g}")
        return ", ".join(parts)


class BudgetExceededError(Exception):
    """A budgeted subtree spent more than its budget; its calls were stopped.

    `alias` names the call whose subtree it was (`None` for the context's budget), `budget` is
    the limit, `usage` the usage counted (summed over the subtree's model calls), `tokens` and
    `cost` what was compared with the limit."""

    def __init__(
        self,
        alias: str | None,
        budget: Budget,
        usage: UsageMetadata | None,
        tokens: int,
        cost: float | None,
    ) -> None:
        self.alias = alias
        self.budget = budget
        self.usage = usage
        self.tokens = tokens
        self.cost = cost
        where = f"agent {alias!r}" if alias is not None else "the MiniAgents context"
        spent = f"{tokens} tokens" + (f", cost {cost:g}" if cost is not None else "")
        super().__init__(
            f"The budget of {where} ({budget.describe()}) is spent: its subtree used {spent}. "
            "Raise the budget, or ask for less."
        )


class BudgetState:
    """What one budget has counted so far for its subtree (`call.budget_state`)."""

    __slots__ = ("_live", "budget", "call", "cost", "error", "tokens", "usage")

    def __init__(self, budget: Budget, call: AgentCall | None) -> None:
        self.budget = budget
        self.call = call
        """The call whose subtree this budget limits (`None`: the whole context)."""
        self.usage: UsageMetadata | None = None
        self.tokens = 0
        self.cost: float | None = 0.0 if budget.max_cost is not None else None
        self.error: BudgetExceededError | None = None
        """Set once the budget is spent (and its subtree stopped)."""
        self._live: set[AgentCall] = set()

    @property
    def exceeded(self) -> bool:
        """Whether the subtree went over (and was stopped)."""
        return self.error is not None

    def enter(self, call: AgentCall) -> None:
        """Count `call` (created in the subtree) among the calls to stop if it goes over."""
        if self.error is not None:
            call._halt(self.error)
        else:
            self._live.add(call)

    def leave(self, call: AgentCall) -> None:
        """`call`'s agent function has ended: nothing of it is left to stop."""
        self._live.discard(call)

    def charge(self, model_call: ModelCall) -> None:
        """Add one model call's reported usage; stop the subtree if it is now over (from the
        next loop step, so that the message that went over ends whole)."""
        usage = model_call.usage
        if usage is None:
            return
        self.usage = usage if self.usage is None else add_usage(self.usage, usage)
        self.tokens += usage.get("total_tokens") or (
            usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
        )
        budget = self.budget
        if self.cost is not None and budget.prices is not None:
            model = model_call.response_model or model_call.request_model or ""
            price = budget.prices.get(model)
            if price is None:
                raise KeyError(
                    f"The budget has no price for the model {model!r}: add it to the "
                    f"budget's prices (it has {sorted(budget.prices)})."
                )
            self.cost += price.cost(usage)
        if self.error is None and self._over():
            self.error = BudgetExceededError(
                self.call.agent.alias if self.call is not None else None,
                budget,
                self.usage,
                self.tokens,
                self.cost,
            )
            asyncio.get_running_loop().call_soon(self._halt_subtree)

    def _over(self) -> bool:
        budget = self.budget
        if budget.max_tokens is not None and self.tokens > budget.max_tokens:
            return True
        return budget.max_cost is not None and self.cost is not None and self.cost > budget.max_cost

    def _halt_subtree(self) -> None:
        error = self.error
        assert error is not None
        owner = self.call
        # Under a call that shows the error as a message, the calls below it just end (each
        # would show it again); otherwise each ends with it, so that whichever place of the
        # reply is reached first shows it.
        quietly = owner is not None and owner._tolerant
        if owner is not None:
            owner._halt(error)
        for call in list(self._live):
            call._halt(error, quietly=quietly)
        self._live.clear()


__all__ = [
    "Budget",
    "BudgetExceededError",
    "BudgetState",
    "ModelPrice",
    "PriceTable",
]
