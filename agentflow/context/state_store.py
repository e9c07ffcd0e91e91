"""The context's state: a pydantic model guarded by a lock, read and written by path.

`edit_state()` holds a lock for its block; every other operation runs without awaiting,
so it is atomic on its own and waits only while another task is inside such a block. No
step sees another halfway through an edit, and the task holding the lock may read and
write inside its own block. Nothing is copied except by `get_state()`, so that a caller that
mutates the copy it was given cannot bypass the lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from agentflow.errors import ContextStateError

if TYPE_CHECKING:
    from agentflow.context.serializers import BaseSerializer

StateT = TypeVar("StateT", bound=BaseModel)

_MISSING: Any = object()


class DictState(BaseModel):
    """The state of a context whose steps take a bare `Context`: any key, any value, read
    and written as attributes (`state.count`) or as a mapping (`state["count"]`, `get`,
    `items`, `in`, `len`, iteration over the keys), as LlamaIndex Workflows' DictState."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, defer_build=True)

    def _entries(self) -> dict[str, Any]:
        # `extra="allow"` keeps every key in pydantic's dict of extra fields.
        extra = self.__pydantic_extra__
        assert extra is not None, "a model with extra='allow' always has its extra dict"
        return extra

    def __getitem__(self, key: str) -> Any:
        return self._entries()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        # Not setattr: pydantic would not keep a key named as a method (`items`) as extra.
        self._entries()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._entries()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries()

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        # The keys, as a mapping's; pydantic's own __iter__ gives (name, value) pairs.
        return iter(self._entries())

    def get(self, key: str, default: Any = None) -> Any:
        """The value under `key`, or `default`."""
        return self._entries().get(key, default)

    def keys(self) -> KeysView[str]:
        """The keys, in the order they were first set."""
        return self._entries().keys()

    def values(self) -> ValuesView[Any]:
        """The values, in the order of `keys()`."""
        return self._entries().values()

    def items(self) -> ItemsView[str, Any]:
        """`(key, value)` pairs, in the order of `keys()`."""
        return self._entries().items()


class InMemoryStateStore(Generic[StateT]):
    """A run's state, shared by its steps and kept between runs of the same Context."""

    __slots__ = ("_holder", "_lock", "_state")

    def __init__(self, state: StateT) -> None:
        self._state = state
        self._lock: asyncio.Lock | None = None  # made on first use; many runs never lock
        self._holder: asyncio.Task[Any] | None = None

    def _exclusive(self) -> _Exclusive[StateT]:
        """The lock, unless the current task already holds it (then a no-op); the block is
        given the state."""
        return _Exclusive(self)

    def _edited_elsewhere(self) -> bool:
        """True while another task is inside `edit_state()`. The other operations do not
        await while they work, so they run at once, without the lock, unless an edit
        is under way in another task."""
        lock = self._lock
        return lock is not None and lock.locked() and self._holder is not asyncio.current_task()

    @property
    def state_type(self) -> type[StateT]:
        """The model class the state is an instance of."""
        return type(self._state)

    def to_text(self, serializer: BaseSerializer) -> str:
        """The state as `serializer` writes it, for `Context.to_dict`, which is sync and so
        cannot await `get_state` (nor needs its copy: serializing does not change it)."""
        return serializer.serialize(self._state, "state")

    async def get_state(self) -> StateT:
        """A deep copy of the whole state."""
        if self._edited_elsewhere():
            async with self._exclusive():
                return self._state.model_copy(deep=True)
        return self._state.model_copy(deep=True)

    async def set_state(self, state: StateT) -> None:
        """Replace the whole state with `state`, which must be of the same model class."""
        if not isinstance(state, type(self._state)):
            raise TypeError(
                f"set_state() takes a {type(self._state).__name__}, got {type(state).__name__}"
            )
        if self._edited_elsewhere():
            async with self._exclusive():
                self._state = state
        else:
            self._state = state

    def edit_state(self) -> AbstractAsyncContextManager[StateT]:
        """Hold the lock while the block edits the state in place. Edits made before an
        exception in the block are kept: there is no rollback."""
        return _Exclusive(self)

    async def get(self, path: str, default: Any = _MISSING) -> Any:
        """The value at dotted `path` (`"user.name"`, `"items.0"`); `default` when it is
        missing, or ValueError naming the path when no default is given. The value is the
        stored object itself: change it through `set` or `edit_state`, not in place."""
        segments = _split(path)
        if self._edited_elsewhere():
            async with self._exclusive():
                return self._read(segments, path, default)
        return self._read(segments, path, default)

    def _read(self, segments: list[str], path: str, default: Any) -> Any:
        target: Any = self._state
        for segment in segments:
            found, target = _child(target, segment)
            if not found:
                if default is _MISSING:
                    raise ValueError(f"path '{path}' not found in state: no '{segment}'")
                return default
        return target

    async def set(self, path: str, value: Any) -> None:
        """Set the value at dotted `path`, creating missing dicts along the way."""
        segments = _split(path)
        if self._edited_elsewhere():
            async with self._exclusive():
                self._write(segments, path, value)
        else:
            self._write(segments, path, value)

    def _write(self, segments: list[str], path: str, value: Any) -> None:
        *parents, last = segments
        target: Any = self._state
        for segment in parents:
            found, child = _child(target, segment)
            if not found:
                child = {}
                _assign(target, segment, child, path)
            target = child
        _assign(target, last, value, path)

    async def clear(self) -> None:
        """Reset the state to a fresh instance of its model class."""
        if self._edited_elsewhere():
            async with self._exclusive():
                self._state = type(self._state)()
        else:
            self._state = type(self._state)()


class _Exclusive(Generic[StateT]):
    """`InMemoryStateStore`'s lock held for a block, entered once per block.

    A class rather than an `asynccontextmanager`: an agent's turn edits the state about ten
    times, and each generator-based block cost an async generator (with the event loop's
    hooks for it) and a context-manager wrapper, for each of two nested blocks.
    """

    __slots__ = ("_entered", "_locked", "_store")

    def __init__(self, store: InMemoryStateStore[StateT]) -> None:
        self._store = store
        self._locked = False
        self._entered = False

    async def __aenter__(self) -> StateT:
        # Whether this block took the lock is kept on the object: entered twice, the inner
        # exit would release the lock the outer block still needs.
        if self._entered:
            raise ContextStateError(
                "an edit_state() block is entered once: call ctx.store.edit_state() for each "
                "`async with`"
            )
        self._entered = True
        store = self._store
        task = asyncio.current_task()
        if store._holder is task and task is not None:
            return store._state  # the task holds the lock already: a block inside its own
        if store._lock is None:
            store._lock = asyncio.Lock()
        await store._lock.acquire()
        store._holder = task
        self._locked = True
        return store._state

    async def __aexit__(self, *exc_info: object) -> None:
        if self._locked:
            store = self._store
            store._holder = None
            assert store._lock is not None, "a block that took the lock made it"
            store._lock.release()
            self._locked = False


def _split(path: str) -> list[str]:
    if not path or ".." in path or path[0] == "." or path[-1] == ".":
        raise ValueError(f"invalid state path {path!r}: use dot-separated names like 'a.b'")
    return path.split(".")


def _child(target: Any, segment: str) -> tuple[bool, Any]:
    if isinstance(target, dict):
        return (True, target[segment]) if segment in target else (False, None)
    if isinstance(target, list | tuple):
        if segment.isdigit() and int(segment) < len(target):
            return True, target[int(segment)]
        return False, None
    if isinstance(target, BaseModel):
        if segment in type(target).__pydantic_fields__:
            return True, getattr(target, segment)
        extra = target.__pydantic_extra__
        if extra is not None and segment in extra:
            return True, extra[segment]
        return False, None
    return (True, getattr(target, segment)) if hasattr(target, segment) else (False, None)


def _assign(target: Any, segment: str, value: Any, path: str) -> None:
    if isinstance(target, dict):
        target[segment] = value
    elif isinstance(target, list):
        if not segment.isdigit() or int(segment) >= len(target):
            raise ValueError(f"cannot set state path '{path}': no index '{segment}' in the list")
        target[int(segment)] = value
    elif isinstance(target, BaseModel):
        if segment in type(target).__pydantic_fields__:
            # Validated as on construction, so a typed state keeps its types.
            try:
                type(target).__pydantic_validator__.validate_assignment(target, segment, value)
            except ValidationError as error:
                raise ValueError(f"cannot set state path '{path}': {error}") from error
        elif target.model_config.get("extra") == "allow":
            setattr(target, segment, value)
        else:
            raise ValueError(
                f"cannot set state path '{path}': {type(target).__name__} has no field '{segment}'"
            )
    else:
        raise ValueError(
            f"cannot set state path '{path}': '{segment}' would go on a "
            f"{type(target).__name__}, which is not a dict, list or model"
        )
