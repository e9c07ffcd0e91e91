"""The workflows a server serves, by name, each with the event classes it may receive.

A client names an event type by its class name (or its qualified name); the server looks it
up among the classes of the workflow itself (those its steps accept and return, the
human-in-the-loop pair, and any `additional_events` given at registration) and never imports
anything by name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentflow.durable.run import qualified_name
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.runtime.step_table import step_table_of
from agentflow.server.errors import ServerConfigurationError

if TYPE_CHECKING:
    from agentflow.stores.base import RunStore
    from agentflow.workflow import Workflow


@dataclass(frozen=True, slots=True)
class ServedWorkflow:
    """One registered workflow."""

    name: str
    """The name in the routes (`/workflows/{name}/run`)."""
    workflow: Workflow[Any]
    """The instance that runs: the user's workflow, copied and bound to the server's store."""
    events: dict[str, type[Event]]
    """Class name -> class, for every event class the workflow may receive or emit."""
    start_event: type[StartEvent]
    """The class its runs start with."""
    stop_event: type[StopEvent]
    """The class its runs end with (StopEvent unless a step returns a subclass)."""

    def event_named(self, type_name: str | None, qualified: str | None) -> type[Event] | None:
        """The workflow's event class a client named, by class name first, else by
        `module.Class`; None when it has no such class."""
        if type_name is not None:
            return self.events.get(type_name)
        if qualified is not None:
            for event_type in self.events.values():
                if f"{event_type.__module__}.{event_type.__name__}" == qualified:
                    return event_type
        return None


class WorkflowRegistry:
    """Name -> `ServedWorkflow`, in registration order."""

    def __init__(self) -> None:
        self._served: dict[str, ServedWorkflow] = {}
        self._by_class: dict[str, str] = {}

    def add(
        self,
        name: str,
        workflow: Workflow[Any],
        store: RunStore,
        additional_events: Iterable[type[Event]] = (),
    ) -> ServedWorkflow:
        """Register `workflow` under `name`. The server runs a shallow copy of it whose
        store is `store` (the user's object is left as it was); a workflow already bound to
        another store is refused, since its runs would be journalled where the server does
        not look."""
        if not name or "/" in name:
            raise ServerConfigurationError(
                f"workflow name must be non-empty, without '/': {name!r}"
            )
        if name in self._served:
            raise ServerConfigurationError(f"a workflow named {name!r} is already served")
        if workflow.store is not None and workflow.store is not store:
            raise ServerConfigurationError(
                f"workflow {name!r} ({type(workflow).__name__}) has a store of its own; the "
                "server journals its runs in the server's store: make it without store=..."
            )
        bound = copy.copy(workflow)
        bound.store = store
        table = step_table_of(type(workflow))
        classes: list[type[Event]] = [HumanResponseEvent, InputRequiredEvent]
        for spec in table.steps.values():
            classes.extend(spec.accepted)
            classes.extend(spec.emitted)
        for extra in additional_events:
            if not (isinstance(extra, type) and issubclass(extra, Event)):
                raise ServerConfigurationError(
                    f"additional_events of {name!r} holds {extra!r}, not an Event class"
                )
            classes.append(extra)
        events = {event_type.__name__: event_type for event_type in classes}
        starts = table.start_event_types()
        stops = [event_type for event_type in classes if issubclass(event_type, StopEvent)]
        served = ServedWorkflow(
            name=name,
            workflow=bound,
            events=events,
            start_event=starts[0] if starts else StartEvent,
            stop_event=stops[0] if stops else StopEvent,
        )
        self._served[name] = served
        self._by_class.setdefault(qualified_name(type(workflow)), name)
        return served

    def bind(self, store: RunStore) -> None:
        """Journal every served workflow's runs in `store` from now on (the command line's
        `--dsn`, given after the server's module registered its workflows)."""
        for served in self._served.values():
            served.workflow.store = store

    def get(self, name: str) -> ServedWorkflow | None:
        """The workflow served as `name`, or None."""
        return self._served.get(name)

    def for_stored(self, stored_workflow: str) -> ServedWorkflow | None:
        """The served workflow whose runs the store names `stored_workflow`
        (`module:QualName`), or None: the first registered, when several names serve one
        class."""
        name = self._by_class.get(stored_workflow)
        return None if name is None else self._served[name]

    def names(self) -> list[str]:
        """The names, in registration order."""
        return list(self._served)

    def __iter__(self) -> Iterator[ServedWorkflow]:
        return iter(self._served.values())
