"""Every exception the engine raises.

The names follow LlamaIndex Workflows so that `except` clauses written for it keep working;
each message names the step, event or field at fault.
"""

from __future__ import annotations


class WorkflowValidationError(Exception):
    """The step graph or a step's signature is invalid; raised before the run starts."""


class WorkflowConfigurationError(WorkflowValidationError):
    """The start or stop of the step graph is wrong (no entry, several entries, no exit)."""


class WorkflowTimeoutError(Exception):
    """The run exceeded the workflow's `timeout`."""


class StepTimeoutError(WorkflowTimeoutError):
    """One execution of a step exceeded its `@step(timeout=...)`."""


class WaitForEventTimeoutError(WorkflowTimeoutError, TimeoutError):
    """A `ctx.wait_for_event(..., timeout=...)` got no matching event in time. Raised in
    the waiting step, which may catch it as `asyncio.TimeoutError` (what LlamaIndex
    Workflows raises there) as well as `WorkflowTimeoutError`."""


class WorkflowRuntimeError(Exception):
    """Something went wrong while routing events or running steps."""


class StartEventError(WorkflowRuntimeError, ValueError):
    """`run()` could not make the start event from its keyword arguments (pydantic's
    ValidationError is the `__cause__`), or was given something else than the workflow's
    start event. A ValueError too, as LlamaIndex Workflows raises for a start event that is
    not one."""


class WorkflowCancelledByUser(Exception):
    """The run was cancelled through `WorkflowHandler.cancel_run()`."""


class RunSuspendedError(WorkflowCancelledByUser):
    """The durable run was suspended while it waited (`WorkflowHandler.suspend_if_waiting`):
    it is unfinished in its store, every record written, for `Workflow.resume` to go on
    with in this process or another. A cancel to the handler's caller, not to the store."""


class StepCancelledError(WorkflowRuntimeError):
    """A step raised CancelledError although nothing cancelled its task (it awaited
    something that was cancelled elsewhere)."""


class WorkflowStalledError(WorkflowRuntimeError):
    """The run can make no more progress: no step is running or queued, nothing waits for
    an event or an answer, no step is one its callers feed, and events that no step took
    are left; the message names each of them and the step that emitted it."""


class WorkflowStepDoesNotExistError(WorkflowRuntimeError):
    """An event was addressed to a step the workflow does not have."""


class ResourceError(Exception):
    """A resource (`agentflow.resource`) could not be made: its factory's signature is
    wrong, or it needs the run's Context where there is no run. The message names the
    factory and the parameter."""


class ResourceCycleError(ResourceError, ValueError):
    """Resource factories take each other as resources in a cycle; the message names it
    (a -> b -> a). A `ValueError`, as LlamaIndex Workflows raises."""


class ResourceConfigError(ResourceError, ValueError):
    """A `ResourceConfig` file is not JSON, lacks the path selected in it, or does not fit
    its model; the message names the file, the path and each field at fault. A
    `ValueError`, as LlamaIndex Workflows raises (pydantic's error is its cause)."""


class ResourceConfigNotFoundError(ResourceError, FileNotFoundError):
    """A `ResourceConfig` names a file that does not exist. A `FileNotFoundError`, as
    LlamaIndex Workflows raises."""


class ContextSerdeError(Exception):
    """A context could not be saved or loaded; the message names the value and its type."""


class ContextStateError(Exception):
    """A context method was called when the context cannot serve it (e.g. no run is active)."""


class StreamAlreadyConsumedError(WorkflowRuntimeError):
    """`stream_events()` was called a second time on the same handler."""


class MissingExtraError(ImportError):
    """An optional part was used without the extra that installs its dependencies (or with
    an older release of one of them, which lacks what the part imports).

    An `ImportError`, so `except ImportError` still catches it; `name` is the module that
    could not be imported."""

    def __init__(self, extra: str, feature: str, missing: ImportError) -> None:
        if isinstance(missing, ModuleNotFoundError):
            state = "is not installed"
            reason = f"no module named {missing.name!r}" if missing.name else str(missing)
        else:  # the package imports, but lacks what was asked for: an older release
            state, reason = "is out of date here", str(missing)
        super().__init__(
            f"{feature} needs the {extra!r} extra, which {state} ({reason}): "
            f"pip install -e '.[{extra}]' in the agentflow checkout",
            name=missing.name,
        )
        self.extra = extra
        """The extra to install: "web" for `pip install -e '.[web]'`."""
        self.feature = feature
        """What needed it (a class, function or file type)."""


class TracingConfigurationError(ValueError):
    """An `OTEL_*` variable asks for span export in a way agentflow cannot set up (an
    unknown exporter or protocol); the message names the variable and its value."""


class StoreError(Exception):
    """A durable run store (`agentflow.stores`) could not do what was asked; the subclasses
    say what."""


class RunNotFoundError(StoreError):
    """No run with the given id is in the store."""


class RunExistsError(StoreError):
    """A run with the given id is already in the store: run ids are unique per store."""


class RunFinishedError(StoreError):
    """The run has ended (completed, failed or cancelled): there is nothing to resume or
    write to."""


class StoreWriteError(StoreError):
    """A write to the store failed. A run whose write failed fails with this error: it
    never goes on without durability."""


class RecordTooLargeError(StoreError):
    """A journal record (or checkpoint) is over the store's size limit; the message names
    the run, the record and its size."""


class StoreVersionError(StoreError):
    """The database was migrated by a newer agentflow than this one: its schema version is
    past the last migration this code knows."""


class RunVersionError(StoreError):
    """A stored run cannot be resumed by this workflow as it is now: another workflow class
    started it, its `version` differs, or steps its journal names are gone. The message
    names what differs; `resume(run_id, allow_version_change=True)` resumes anyway where
    that is possible (never with steps missing that still have work to do)."""


class MCPServeError(ValueError):
    """What `agentflow.mcp.serve` was given cannot be served over MCP: not a workflow or
    a tool, or two of them with one name."""
