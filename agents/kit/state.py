"""`KitState`: the typed context state every prebuilt workflow keeps, and its run's usage.

```python
class ExtractionWorkflowState(KitState[ExtractionState]): ...   # one class per workflow

@step
async def collect(self, ctx: Context[ExtractionWorkflowState], ev: ChunkExtracted) -> ...:
    async with ctx.store.edit_state() as state:   # typed, edited in place under the lock
        state.current_run().candidates.extend(ev.candidates)
```

The run's own state sits in `run` (made by the workflow's first step, `begin_run`), beside
what outlives a run of the context: the usage ledger (`usage_ledger`, where `MeteredLLM`
books every call) and whatever a workflow declares (an agent's memory) or a user's tool
sets under a key of its own. The usage a run reports is what the ledger booked since
`begin_run` (`run_usage`): one path for every workflow, so a result and the ledger never
disagree.

A `KitState` is a `DictState`: steps a user wrote for a bare `Context` (or
`Context[DictState]`) keep working, and its declared fields read and write as keys too
(`state["state"]`, as LlamaIndex's agents keep their shared dict), besides any other key.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from agentflow.context import DictState
from agents.kit.errors import RunNotStartedError
from agents.llm.ledger import UsageLedger, usage_since
from agents.llm.types import Usage

RunT = TypeVar("RunT", bound=BaseModel)


class KitState(DictState, Generic[RunT]):
    """A prebuilt workflow's context state: the current run's `run`, the ledger, any key."""

    run: RunT | None = None
    """The current (or last) run's state; None before the first run starts."""
    usage_ledger: UsageLedger | None = None
    """Every LLM call booked (`MeteredLLM`); made on the first call, or set beforehand
    with prices and a budget."""
    usage_before: Usage = Field(default_factory=Usage)
    """The ledger's total when the current run began."""

    def begin_run(self, run: RunT) -> RunT:
        """Make `run` the current run's state, its usage counted from now."""
        self.run = run
        total = self.usage_total()
        if total != self.usage_before:  # assigned, it would be saved even when empty
            self.usage_before = total
        return run

    def current_run(self) -> RunT:
        """The current run's state; `RunNotStartedError` before a run began."""
        if self.run is None:
            raise RunNotStartedError(type(self).__name__)
        return self.run

    def usage_total(self) -> Usage:
        """What the ledger has booked so far, in every run of the context."""
        return Usage() if self.usage_ledger is None else self.usage_ledger.total.usage

    def run_usage(self) -> Usage:
        """What the ledger booked since the current run began: the run's own usage."""
        return usage_since(self.usage_before, self.usage_total())

    # The mapping face of DictState, over the declared fields as well as the extra keys.

    def _fields_and_extras(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in type(self).model_fields},
            **self._entries(),
        }

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key in type(self).model_fields:
            setattr(self, key, value)
        else:
            super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        if key in type(self).model_fields:
            raise KeyError(f"{type(self).__name__} cannot delete its field '{key}'; set it")
        super().__delitem__(key)

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields or super().__contains__(key)

    def __len__(self) -> int:
        return len(type(self).model_fields) + super().__len__()

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self._fields_and_extras())

    def get(self, key: str, default: Any = None) -> Any:
        """The value under `key` (a field or another key), or `default`."""
        if key in type(self).model_fields:
            return getattr(self, key)
        return super().get(key, default)

    def keys(self) -> KeysView[str]:
        """The fields, then the other keys in the order they were first set."""
        return self._fields_and_extras().keys()

    def values(self) -> ValuesView[Any]:
        """The values, in the order of `keys()`."""
        return self._fields_and_extras().values()

    def items(self) -> ItemsView[str, Any]:
        """`(key, value)` pairs, in the order of `keys()`."""
        return self._fields_and_extras().items()
