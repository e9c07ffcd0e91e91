"""`FunctionTool`: a sync or async Python callable an LLM can call, and the `@tool` decorator.

Calling goes: arguments (keywords, or a JSON string from the LLM) -> validated and coerced
by the tool's pydantic model -> the function (sync ones in a worker thread; with a
timeout, in a task of its own) under the tool's timeout -> a `ToolOutput`. Every way a
call can go wrong (bad JSON, invalid or missing arguments, an exception, the function's
own CancelledError, a timeout) ends in an output with `is_error=True` whose content tells
the LLM what to fix; nothing raises into the agent. Only the caller's own cancellation
propagates.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from pydantic import BaseModel, ValidationError

from tools.errors import ToolCancelledError
from tools.metadata import ToolMetadata
from tools.output import ToolOutput, render_content
from tools.schema import describe_function, null_means_default, parse_docstring
from tools.spans import traced_tool_call, traced_tool_call_sync
from tools.tasks import await_in_own_task, run_coroutine_blocking
from tools.threads import start_in_thread

if TYPE_CHECKING:
    from agentflow.context import Context
    from tools.sessions import RunSession


@dataclass(slots=True)
class _Call:
    """One validated call: what to pass to the function."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    raw_input: dict[str, Any]


class FunctionTool:
    """A Python function with a name, description and argument schema, safely callable.

    Build one with `FunctionTool.from_defaults(fn)` or the `@tool` decorator. Its
    `metadata` also says how an agent treats a call the model repeats: by default the
    earlier result answers it; `side_effects=True` marks a tool never to run twice with the
    same arguments in a run, `allow_repeats=True` one that runs every time.
    """

    session: RunSession | None = None
    """The session with a server that the tool's calls go through, which an agent run
    holds from its start to its end (`tools.sessions`); None for a tool that has none."""

    def __init__(
        self,
        fn: Callable[..., Any],
        metadata: ToolMetadata,
        *,
        timeout: float | None = None,
        context_param: str | None = None,
        positional_only: tuple[str, ...] = (),
        param_names: dict[str, str] | None = None,
    ) -> None:
        self.fn = fn
        """The wrapped callable."""
        self.metadata = metadata
        """Name, description and argument schema (what the LLM sees)."""
        self.timeout = timeout
        """Seconds a call may take before it ends in an error output; None for no limit."""
        self.ctx_param_name = context_param
        """The parameter that receives agentflow's Context, if the function takes one."""
        self._positional_only = positional_only
        self._param_names = param_names or {}
        self._is_async = _is_async_callable(fn)

    @classmethod
    def from_defaults(
        cls,
        fn: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        return_direct: bool = False,
        timeout: float | None = None,
        fn_schema: type[BaseModel] | None = None,
        side_effects: bool = False,
        allow_repeats: bool = False,
    ) -> FunctionTool:
        """A tool for `fn`: name from `fn.__name__`, description from the docstring's
        summary line and schema from the signature, unless given.

        `fn_schema` replaces the schema read from the signature (for a function taking
        `**kwargs`, say). `side_effects=True` marks a tool that changes things, which an
        agent never runs twice with the same arguments in one run; `allow_repeats=True`
        lets a repeated call run again (see `ToolMetadata`). Raises `ToolDefinitionError`
        for a signature that has no schema.
        """
        tool_name = name or _default_name(fn)
        if fn_schema is None:
            described = describe_function(fn, tool_name)
            summary, schema = described.summary, described.fn_schema
            context_param, positional_only = described.context_param, described.positional_only
            param_names = described.param_names
        else:
            summary = parse_docstring(fn).short_description or ""
            schema, context_param, positional_only, param_names = fn_schema, None, (), {}
        metadata = ToolMetadata(
            name=tool_name,
            description=description or summary or f"Call {tool_name}.",
            fn_schema=schema,
            return_direct=return_direct,
            side_effects=side_effects,
            allow_repeats=allow_repeats,
        )
        return cls(
            fn,
            metadata,
            timeout=timeout,
            context_param=context_param,
            positional_only=positional_only,
            param_names=param_names,
        )

    @property
    def name(self) -> str:
        """The tool's name (`metadata.name`)."""
        return self.metadata.name

    @property
    def requires_context(self) -> bool:
        """Whether the function declares a `ctx: Context` parameter the caller must fill."""
        return self.ctx_param_name is not None

    def __repr__(self) -> str:
        return f"FunctionTool(name={self.name!r}, fn={self.fn!r})"

    # --- calling -------------------------------------------------------------------

    async def acall(self, /, *args: Any, **kwargs: Any) -> ToolOutput:
        """Validate the arguments, run the function under the timeout, wrap the result.

        Positional arguments fill the schema's parameters in order. A function declaring
        `ctx: Context` gets the context passed under its parameter's name. A CancelledError
        the function brings on itself is an error output; cancelling the caller cancels
        the function and propagates. With a timeout the call runs in a task of its own
        (`tools.tasks`), so that a function ignoring its cancel can be left behind. Traced
        as `execute` is.
        """
        return await self.execute(args, kwargs)

    async def execute(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], *, call_id: str | None = None
    ) -> ToolOutput:
        """`acall(*args, **kwargs)` as the call `call_id` of a model's reply: with a tracer
        provider set, in an `execute_tool {name}` span (`tools.spans`) around `invoke`."""
        return await traced_tool_call(
            self.name, self.metadata.description, call_id, lambda: self.invoke(args, kwargs)
        )

    async def invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ToolOutput:
        """The call itself, untraced (what `acall` describes); a tool that calls elsewhere
        (an MCP server's) replaces this."""
        prepared = self._prepare(args, kwargs)
        if isinstance(prepared, ToolOutput):
            return prepared
        if self.timeout is None:
            return await self._run(prepared)
        try:
            return await await_in_own_task(self._run(prepared), self.timeout, f"tool '{self.name}'")
        except TimeoutError as error:
            return self._timed_out(prepared, error)
        except ToolCancelledError as error:
            return self._error(prepared.raw_input, str(error), error)

    async def acall_json(
        self, arguments: str, ctx: Context[Any] | None = None, *, call_id: str | None = None
    ) -> ToolOutput:
        """Call with the arguments as an LLM sends them: a JSON object in a string, as the
        call `call_id` of its reply (traced as `execute` is).

        An empty string means no arguments. `ctx` reaches a function that declares a
        Context parameter and is ignored otherwise.
        """

        async def parse_and_invoke() -> ToolOutput:
            parsed = self._parse_json(arguments)
            if isinstance(parsed, ToolOutput):
                return parsed
            return await self.invoke((), self.keywords_for(parsed, ctx))

        return await traced_tool_call(
            self.name, self.metadata.description, call_id, parse_and_invoke
        )

    def keywords_for(self, arguments: dict[str, Any], ctx: Context[Any] | None) -> dict[str, Any]:
        """A model's `arguments` as the keyword arguments of a call: the Context, when the
        function takes one, is the caller's `ctx`, never one the model named."""
        kwargs = dict(arguments)
        if self.ctx_param_name is not None:
            kwargs.pop(self.ctx_param_name, None)
            if ctx is not None:
                kwargs[self.ctx_param_name] = ctx
        return kwargs

    def call(self, /, *args: Any, **kwargs: Any) -> ToolOutput:
        """`acall` for synchronous code: sync functions run in the calling thread (in a
        worker thread when there is a timeout), async ones on an event loop of their own.
        Traced as `execute` is (without a call id).
        """
        if self._is_async:
            return run_coroutine_blocking(lambda: self.acall(*args, **kwargs), self.name)
        return traced_tool_call_sync(
            self.name, self.metadata.description, lambda: self._call_sync(args, kwargs)
        )

    def _call_sync(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ToolOutput:
        prepared = self._prepare(args, kwargs)
        if isinstance(prepared, ToolOutput):
            return prepared
        try:
            if self.timeout is None:
                result = self.fn(*prepared.args, **prepared.kwargs)
            else:
                future = start_in_thread(self.fn, prepared.args, prepared.kwargs, self.name)
                try:
                    result = future.result(timeout=self.timeout)
                except TimeoutError as error:
                    if future.done():  # the function itself raised TimeoutError
                        raise
                    return self._timed_out(prepared, error)
            if inspect.isawaitable(result):
                awaitable = result
                result = run_coroutine_blocking(lambda: _await(awaitable), self.name)
        # SystemExit too: a tool calling sys.exit() (argparse, click) must not end the agent;
        # and CancelledError, which here can only be the function's own (a cancelled future).
        except (Exception, SystemExit, asyncio.CancelledError) as error:
            return self._raised(prepared, error)
        return self._finished(prepared, result)

    def __call__(self, /, *args: Any, **kwargs: Any) -> ToolOutput:
        return self.call(*args, **kwargs)

    # --- the steps of a call -------------------------------------------------------

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | ToolOutput:
        context: Any = None
        if self.ctx_param_name is not None:
            context = kwargs.pop(self.ctx_param_name, None)
        raw_input = dict(kwargs)
        fields = list(self.metadata.fn_schema.__pydantic_fields__)
        if len(args) > len(fields):
            return self._error(
                raw_input,
                f"tool '{self.name}' takes at most {len(fields)} positional arguments, "
                f"got {len(args)}",
            )
        for field_name, value in zip(fields, args, strict=False):
            key = self._param_names.get(field_name, field_name)
            if key in kwargs:
                return self._error(raw_input, f"tool '{self.name}' got '{key}' twice")
            kwargs[key] = value
            raw_input[key] = value
        if self.ctx_param_name is not None and context is None:
            return self._error(
                raw_input,
                f"tool '{self.name}' needs the workflow Context in its parameter "
                f"'{self.ctx_param_name}', and the caller passed none",
            )
        _drop_nulls_meaning_default(kwargs, self.metadata)
        try:
            validated = self.metadata.fn_schema.model_validate(kwargs)
        except ValidationError as error:
            return self._error(raw_input, self._describe_invalid(error), error)
        except Exception as error:  # a validator raising TypeError, KeyError... (not wrapped)
            return self._error(
                raw_input,
                f"invalid arguments for tool '{self.name}': validating them raised "
                f"{type(error).__name__}: {error}",
                error,
            )
        values = {
            self._param_names.get(name, name): getattr(validated, name)
            for name in type(validated).__pydantic_fields__
        }
        call_args = tuple(values.pop(name) for name in self._positional_only)
        if self.ctx_param_name is not None:
            values[self.ctx_param_name] = context
        return _Call(call_args, values, raw_input)

    async def _run(self, call: _Call) -> ToolOutput:
        # Every outcome but the cancellation of the task running it becomes an output here.
        # SystemExit too (a tool calling sys.exit(), as argparse and click do), which must
        # not end the agent, nor a task of its own: asyncio re-raises it out of the loop.
        try:
            if self._is_async:
                result = await self.fn(*call.args, **call.kwargs)
            else:
                future = start_in_thread(self.fn, call.args, call.kwargs, self.name)
                result = await asyncio.wrap_future(future)
            if inspect.isawaitable(result):
                result = await result
        except asyncio.CancelledError as error:
            if _task_is_cancelled():
                raise  # the caller is cancelled, or the call's own task at its timeout
            return self._cancelled_itself(call, error)
        except (Exception, SystemExit) as error:
            return self._raised(call, error)
        return self._finished(call, result)

    def _parse_json(self, arguments: str) -> dict[str, Any] | ToolOutput:
        if not arguments.strip():
            return {}
        try:
            parsed = json.loads(arguments)
        # ValueError besides JSONDecodeError: an integer of more than 4300 digits;
        # RecursionError: arrays or objects nested thousands deep.
        except (ValueError, RecursionError) as error:
            return self._error(
                {"arguments": arguments},
                f"the arguments for tool '{self.name}' are not valid JSON ({error}); send "
                "one JSON object with the arguments as keys",
                error,
            )
        if not isinstance(parsed, dict):
            return self._error(
                {"arguments": arguments},
                f"the arguments for tool '{self.name}' must be a JSON object, got "
                f"{type(parsed).__name__} {arguments.strip()[:80]}",
            )
        return parsed

    def _describe_invalid(self, error: ValidationError) -> str:
        expected = ", ".join(
            field.alias or name for name, field in self.metadata.fn_schema.model_fields.items()
        )
        problems = []
        for item in error.errors(include_url=False):
            where = ".".join(str(part) for part in item["loc"]) or "arguments"
            if item["type"] == "missing":
                problems.append(f"'{where}': missing required argument")
            elif item["type"] == "extra_forbidden":
                problems.append(f"'{where}': unexpected argument")
            else:
                problems.append(f"'{where}': {item['msg']} (got {_short_repr(item['input'])})")
        return (
            f"invalid arguments for tool '{self.name}': {'; '.join(problems)}. "
            f"The tool takes: {expected or 'no arguments'}"
        )

    def _finished(self, call: _Call, result: Any) -> ToolOutput:
        if isinstance(result, ToolOutput):
            if not result.raw_input:
                result.raw_input = call.raw_input
            return result
        try:
            content = render_content(result)
        except Exception as error:  # circular data, a __str__ that raises...
            return self._error(
                call.raw_input,
                f"tool '{self.name}' returned a {type(result).__name__} that cannot be "
                f"written as text: {type(error).__name__}: {error}",
                error,
            )
        return ToolOutput(
            tool_name=self.name,
            content=content,
            raw_input=call.raw_input,
            raw_output=result,
        )

    def _raised(self, call: _Call, error: BaseException) -> ToolOutput:
        detail = str(error) or "(no message)"
        return self._error(
            call.raw_input, f"tool '{self.name}' raised {type(error).__name__}: {detail}", error
        )

    def _cancelled_itself(self, call: _Call, error: asyncio.CancelledError) -> ToolOutput:
        wrapped = ToolCancelledError(
            f"tool '{self.name}' raised {error!r} although its call was not cancelled; it "
            "awaited something cancelled elsewhere, or raised CancelledError itself"
        )
        wrapped.__cause__ = error
        return self._error(call.raw_input, str(wrapped), wrapped)

    def _timed_out(self, call: _Call, error: TimeoutError) -> ToolOutput:
        return self._error(
            call.raw_input,
            f"tool '{self.name}' did not finish within its timeout of {self.timeout} s "
            "and was abandoned; it returned nothing",
            error,
        )

    def _error(
        self, raw_input: dict[str, Any], message: str, error: BaseException | None = None
    ) -> ToolOutput:
        return ToolOutput(
            tool_name=self.name,
            content=f"Error: {message}",
            raw_input=raw_input,
            raw_output=error,
            is_error=True,
        )


@overload
def tool(fn: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    return_direct: bool = False,
    timeout: float | None = None,
    side_effects: bool = False,
    allow_repeats: bool = False,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    return_direct: bool = False,
    timeout: float | None = None,
    side_effects: bool = False,
    allow_repeats: bool = False,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a function a `FunctionTool`: `@tool` or `@tool(name=..., timeout=...)`;
    `@tool(side_effects=True)` for one that changes things (see `FunctionTool.from_defaults`)."""

    def make(function: Callable[..., Any]) -> FunctionTool:
        return FunctionTool.from_defaults(
            function,
            name=name,
            description=description,
            return_direct=return_direct,
            timeout=timeout,
            side_effects=side_effects,
            allow_repeats=allow_repeats,
        )

    return make if fn is None else make(fn)


def _drop_nulls_meaning_default(kwargs: dict[str, Any], metadata: ToolMetadata) -> None:
    # A provider's strict mode may send `null` for a parameter with a non-null default to
    # mean "the default" (see tools.schema.null_means_default); dropping it lets the default
    # apply. Parameters that accept null keep it.
    if not any(value is None for value in kwargs.values()):
        return
    for name in null_means_default(metadata.get_parameters_dict()):
        if name in kwargs and kwargs[name] is None:
            del kwargs[name]


def _default_name(fn: Callable[..., Any]) -> str:
    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    return getattr(target, "__name__", None) or type(target).__name__


def _short_repr(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _is_async_callable(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - a callable object's own method
    return call is not None and inspect.iscoroutinefunction(call)


def _task_is_cancelled() -> bool:
    """Whether the current task has a cancel request pending (`Task.cancelling`): then a
    CancelledError is that request, not something a tool brought on itself."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _await(awaitable: Any) -> Any:
    return await awaitable
