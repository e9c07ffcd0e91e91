"""`UsageLedger`: what a run's LLM calls used and cost, per model and per step.

The ledger is a pydantic model kept in the workflow context's state (see `MeteredLLM`), so it
is saved and restored with the context. Given a price table it adds each call's cost; given a
budget (in USD or in tokens), `check` refuses a call whose estimate would exceed it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.llm.errors import BudgetExceededError
from agents.llm.types import Usage


def usage_since(before: Usage, after: Usage) -> Usage:
    """What a ledger booked between two readings of its total: a run's own usage, taken
    from the one place every call is booked (`MeteredLLM`), so a run's result and the
    ledger never disagree, estimates included."""
    return Usage(
        **{name: getattr(after, name) - getattr(before, name) for name in Usage.__pydantic_fields__}
    )


class Price(BaseModel):
    """A model's price in USD per million tokens."""

    input: float
    """Per million prompt tokens not read from the cache."""
    output: float
    """Per million completion tokens (reasoning tokens included)."""
    cached_input: float | None = None
    """Per million cached prompt tokens; None bills them as `input`."""

    def cost(self, usage: Usage) -> float:
        """What `usage` costs, in USD."""
        cached_rate = self.input if self.cached_input is None else self.cached_input
        fresh = usage.prompt_tokens - usage.cached_tokens
        return (
            fresh * self.input
            + usage.cached_tokens * cached_rate
            + usage.completion_tokens * self.output
        ) / 1_000_000


class LedgerEntry(BaseModel):
    """Usage and cost summed over some calls."""

    calls: int = 0
    """How many calls."""
    usage: Usage = Field(default_factory=Usage)
    """Their tokens, added up."""
    cost: float = 0.0
    """Their cost in USD, for the calls whose model has a price."""
    unpriced_calls: int = 0
    """Calls to a model missing from the price table (their cost is not in `cost`)."""

    def add(self, usage: Usage, cost: float | None) -> None:
        """Count one call."""
        self.calls += 1
        self.usage = self.usage + usage
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.cost += cost


class UsageLedger(BaseModel):
    """Every LLM call of a run: totals, per model and per step, and an optional budget."""

    prices: dict[str, Price] = Field(default_factory=dict)
    """Prices by model name; a dated name (`gpt-4o-2024-08-06`) falls back to its prefix."""
    budget_usd: float | None = None
    """The most the run may spend, in USD; None for no limit."""
    budget_tokens: int | None = None
    """The most tokens the run may use, prompt and completion; None for no limit."""
    total: LedgerEntry = Field(default_factory=LedgerEntry)
    """All calls."""
    by_model: dict[str, LedgerEntry] = Field(default_factory=dict)
    """Calls by model."""
    by_step: dict[str, LedgerEntry] = Field(default_factory=dict)
    """Calls by the step that made them."""

    def price_of(self, model: str) -> Price | None:
        """The price of `model`: its own entry, else the longest listed prefix of its name."""
        if model in self.prices:
            return self.prices[model]
        matches = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost_of(self, model: str, usage: Usage) -> float | None:
        """What `usage` on `model` costs in USD, or None without a price."""
        price = self.price_of(model)
        return None if price is None else price.cost(usage)

    def record(self, model: str, step: str, usage: Usage) -> float | None:
        """Add one call; returns its cost (None without a price)."""
        cost = self.cost_of(model, usage)
        self.total.add(usage, cost)
        _entry(self.by_model, model).add(usage, cost)
        _entry(self.by_step, step).add(usage, cost)
        return cost

    def check(self, model: str, step: str, prompt_tokens: int, max_output_tokens: int = 0) -> None:
        """Raise BudgetExceededError if a call of `prompt_tokens` (and up to
        `max_output_tokens` of reply) would take the run over a budget."""
        if self.budget_tokens is not None:
            estimate = prompt_tokens + max_output_tokens
            used = self.total.usage
            # A usage booked without its total (a client that left it at 0) still counts.
            spent = max(used.total_tokens, used.prompt_tokens + used.completion_tokens)
            if spent + estimate > self.budget_tokens:
                raise BudgetExceededError(
                    step, model, spent, estimate, self.budget_tokens, "tokens"
                )
        if self.budget_usd is not None:
            usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=max_output_tokens)
            estimate_usd = self.cost_of(model, usage) or 0.0
            if self.total.cost + estimate_usd > self.budget_usd:
                raise BudgetExceededError(
                    step, model, self.total.cost, estimate_usd, self.budget_usd, "USD"
                )


def _entry(entries: dict[str, LedgerEntry], name: str) -> LedgerEntry:
    """The entry under `name`, made when missing (not built on every call only to be
    thrown away, as `setdefault(name, LedgerEntry())` would: two models per call)."""
    entry = entries.get(name)
    if entry is None:
        entry = entries[name] = LedgerEntry()
    return entry
