"""The state store: dotted paths, typed state models, the edit lock, copies, and the state
type a workflow's `Context[MyState]` annotations choose."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from agentflow import Context, Workflow, step
from agentflow.context import DictState, InMemoryStateStore
from agentflow.errors import ContextStateError, WorkflowValidationError
from agentflow.events import Event, StartEvent, StopEvent


class Profile(BaseModel):
    name: str = "anonymous"
    tags: list[str] = []


class AppState(BaseModel):
    """A typed state without extra fields."""

    count: int = 0
    items: list[int] = []
    profile: Profile = Profile()


class OpenState(BaseModel):
    """A typed state that also takes fields it does not declare."""

    model_config = ConfigDict(extra="allow")

    count: int = 0


def dict_store() -> InMemoryStateStore[DictState]:
    return InMemoryStateStore(DictState())


def typed_store() -> InMemoryStateStore[AppState]:
    return InMemoryStateStore(AppState())


# get / set by path on DictState


async def test_set_then_get_a_top_level_key() -> None:
    store = dict_store()
    await store.set("answer", 42)
    assert await store.get("answer") == 42


async def test_set_overwrites_a_previous_value() -> None:
    store = dict_store()
    await store.set("answer", 1)
    await store.set("answer", 2)
    assert await store.get("answer") == 2


async def test_set_creates_the_dicts_along_a_dotted_path() -> None:
    store = dict_store()
    await store.set("user.address.city", "Paris")
    assert await store.get("user.address.city") == "Paris"
    assert await store.get("user") == {"address": {"city": "Paris"}}


async def test_set_adds_to_existing_nested_dicts_without_replacing_them() -> None:
    store = dict_store()
    await store.set("user.name", "Ada")
    await store.set("user.age", 36)
    assert await store.get("user") == {"name": "Ada", "age": 36}


async def test_get_reads_list_elements_by_index() -> None:
    store = dict_store()
    await store.set("rows", [{"id": 10}, {"id": 11}])
    assert await store.get("rows.1") == {"id": 11}
    assert await store.get("rows.0.id") == 10


async def test_set_writes_list_elements_by_index() -> None:
    store = dict_store()
    await store.set("rows", [1, 2, 3])
    await store.set("rows.1", 20)
    assert await store.get("rows") == [1, 20, 3]


async def test_set_writes_inside_a_dict_held_by_a_list() -> None:
    store = dict_store()
    await store.set("rows", [{"id": 1}])
    await store.set("rows.0.done", True)
    assert await store.get("rows") == [{"id": 1, "done": True}]


async def test_get_reads_tuple_elements_by_index() -> None:
    store = dict_store()
    await store.set("pair", ("left", "right"))
    assert await store.get("pair.1") == "right"


async def test_set_past_the_end_of_a_list_raises_value_error_naming_the_path() -> None:
    store = dict_store()
    await store.set("rows", [1])
    with pytest.raises(ValueError, match=r"rows\.5"):
        await store.set("rows.5", 2)
    assert await store.get("rows") == [1]


async def test_set_a_non_numeric_list_index_raises_value_error() -> None:
    store = dict_store()
    await store.set("rows", [1])
    with pytest.raises(ValueError, match=r"rows\.first"):
        await store.set("rows.first", 2)


async def test_set_below_a_plain_value_raises_value_error_naming_the_path() -> None:
    store = dict_store()
    await store.set("count", 5)
    with pytest.raises(ValueError, match=r"count\.digits"):
        await store.set("count.digits", 1)
    assert await store.get("count") == 5


@pytest.mark.parametrize("path", ["rows.7", "rows.x", "rows.-1"])
async def test_get_an_index_outside_a_list_gives_the_default(path: str) -> None:
    store = dict_store()
    await store.set("rows", [1, 2])
    assert await store.get(path, "default") == "default"


# Missing and invalid paths


async def test_get_a_missing_path_with_a_default_returns_the_default() -> None:
    store = dict_store()
    await store.set("user.name", "Ada")
    assert await store.get("missing", 0) == 0
    assert await store.get("user.missing", None) is None
    assert await store.get("user.name.deeper.still", "d") == "d"


async def test_get_a_missing_path_without_default_raises_value_error_naming_it() -> None:
    store = dict_store()
    await store.set("user.name", "Ada")
    with pytest.raises(ValueError, match=r"user\.email") as raised:
        await store.get("user.email")
    assert "email" in str(raised.value)


async def test_get_returns_a_stored_none_rather_than_the_default() -> None:
    store = dict_store()
    await store.set("maybe", None)
    assert await store.get("maybe", "default") is None


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a."])
async def test_get_an_invalid_path_raises_value_error_even_with_a_default(path: str) -> None:
    store = dict_store()
    with pytest.raises(ValueError, match="invalid state path"):
        await store.get(path, "default")


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a."])
async def test_set_an_invalid_path_raises_value_error_and_changes_nothing(path: str) -> None:
    store = dict_store()
    with pytest.raises(ValueError, match="invalid state path"):
        await store.set(path, 1)
    assert (await store.get_state()).model_dump() == {}


# Typed state models


async def test_typed_state_reads_declared_fields_and_their_defaults() -> None:
    store = typed_store()
    assert await store.get("count") == 0
    assert await store.get("profile.name") == "anonymous"


async def test_typed_state_sets_declared_and_nested_model_fields() -> None:
    store = typed_store()
    await store.set("count", 3)
    await store.set("profile.name", "Ada")
    state = await store.get_state()
    assert state.count == 3
    assert state.profile.name == "Ada"


async def test_typed_state_rejects_an_unknown_field_naming_it() -> None:
    store = typed_store()
    with pytest.raises(ValueError, match="unknown_field") as raised:
        await store.set("unknown_field", 1)
    assert "AppState" in str(raised.value)
    assert "unknown_field" not in (await store.get_state()).model_dump()


async def test_typed_state_rejects_an_unknown_field_of_a_nested_model() -> None:
    store = typed_store()
    with pytest.raises(ValueError, match="nickname") as raised:
        await store.set("profile.nickname", "A")
    assert "Profile" in str(raised.value)


async def test_typed_state_rejects_a_path_through_an_unknown_field() -> None:
    store = typed_store()
    with pytest.raises(ValueError, match="settings"):
        await store.set("settings.theme", "dark")


async def test_typed_state_with_extra_allow_takes_unknown_fields() -> None:
    store = InMemoryStateStore(OpenState())
    await store.set("note", "kept")
    await store.set("nested.deep", 1)
    assert await store.get("note") == "kept"
    assert await store.get("nested.deep") == 1


async def test_typed_state_get_of_an_unknown_field_is_missing() -> None:
    store = typed_store()
    assert await store.get("unknown", "default") == "default"
    with pytest.raises(ValueError, match="unknown"):
        await store.get("unknown")


async def test_state_type_is_the_class_of_the_state() -> None:
    assert typed_store().state_type is AppState
    assert dict_store().state_type is DictState


# edit_state and the lock


async def test_edit_state_changes_the_stored_state_in_place() -> None:
    store = typed_store()
    async with store.edit_state() as state:
        state.count = 7
        state.items.append(1)
    assert await store.get("count") == 7
    assert await store.get("items") == [1]


async def test_edit_state_serialises_concurrent_read_modify_write() -> None:
    store = typed_store()

    async def increment() -> None:
        async with store.edit_state() as state:
            current = state.count
            # Give every other task the chance to read the same value: only the lock
            # stops them from doing so.
            await asyncio.sleep(0)
            state.count = current + 1

    await asyncio.gather(*(increment() for _ in range(50)))
    assert await store.get("count") == 50


async def test_set_waits_for_an_open_edit_state_block() -> None:
    store = dict_store()
    entered, release = asyncio.Event(), asyncio.Event()

    async def edit() -> None:
        async with store.edit_state() as state:
            entered.set()
            await release.wait()
            state.owner = "editor"

    editor = asyncio.create_task(edit())
    await entered.wait()
    # The writer is scheduled before the editor is released: without the lock it would
    # write first and the editor would overwrite it.
    writer = asyncio.create_task(store.set("owner", "writer"))
    release.set()
    await asyncio.gather(editor, writer)
    assert await store.get("owner") == "writer"


async def test_a_reader_never_sees_an_edit_halfway() -> None:
    store = typed_store()
    entered, release = asyncio.Event(), asyncio.Event()

    async def edit_two_fields() -> None:
        async with store.edit_state() as state:
            state.count = 1
            entered.set()
            await release.wait()
            state.items = [1]

    editor = asyncio.create_task(edit_two_fields())
    await entered.wait()
    reads = [
        asyncio.create_task(store.get_state()),
        asyncio.create_task(store.get("items")),
    ]
    release.set()
    snapshot, items = await asyncio.gather(*reads)
    await editor
    assert (snapshot.count, snapshot.items) == (1, [1])
    assert items == [1]


async def test_the_editing_task_may_read_and_write_inside_its_own_block() -> None:
    store = typed_store()
    async with asyncio.timeout(5):
        async with store.edit_state() as state:
            state.count = 7
            assert await store.get("count") == 7
            await store.set("profile.name", "ada")
            assert (await store.get_state()).profile.name == "ada"


async def test_a_block_nested_in_its_tasks_own_block_leaves_the_lock_held() -> None:
    store = typed_store()
    entered_outer, inner_done = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def outer() -> None:
        async with store.edit_state() as state:
            entered_outer.set()
            async with store.edit_state() as same:
                assert same is state
                same.count = 1
            inner_done.set()
            # Another task waits for the lock now; the inner block's end did not free it.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            order.append("outer")

    async def other() -> None:
        await inner_done.wait()
        async with store.edit_state() as state:
            order.append("other")
            state.count += 1

    async with asyncio.timeout(5):
        await asyncio.gather(outer(), other())
    assert order == ["outer", "other"]
    assert await store.get("count") == 2


async def test_one_edit_state_block_entered_twice_is_refused() -> None:
    store = typed_store()
    block = store.edit_state()

    async with block:
        # Entered again inside itself, its inner exit would free the lock the outer block holds.
        with pytest.raises(ContextStateError, match="entered once"):
            async with block:
                pass
    with pytest.raises(ContextStateError, match="entered once"):
        async with block:
            pass
    async with store.edit_state() as state:  # a new block per `async with` takes the lock
        state.count = 1
    assert await store.get("count") == 1


async def test_a_task_cancelled_while_waiting_for_the_lock_leaves_it_to_the_next() -> None:
    store = typed_store()
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.edit_state():
            entered.set()
            await release.wait()

    async def edit() -> None:
        async with store.edit_state() as state:
            state.count += 1

    holder = asyncio.create_task(hold())
    await entered.wait()
    waiting = asyncio.create_task(edit())
    await asyncio.sleep(0)  # it waits for the lock
    waiting.cancel()
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with asyncio.timeout(5):
        await edit()
    assert await store.get("count") == 1


async def test_set_validates_a_value_against_the_typed_field() -> None:
    store = typed_store()
    await store.set("count", "12")
    assert await store.get("count") == 12
    with pytest.raises(ValueError, match="'count'"):
        await store.set("count", "not a number")
    assert await store.get("count") == 12


async def test_edits_made_before_an_exception_are_kept_and_the_lock_is_released() -> None:
    store = typed_store()

    async def fail_halfway() -> None:
        async with store.edit_state() as state:
            state.count = 1
            raise RuntimeError("halfway")

    with pytest.raises(RuntimeError, match="halfway"):
        await fail_halfway()
    assert await store.get("count") == 1
    async with asyncio.timeout(5):
        async with store.edit_state() as state:
            state.count += 1
    assert await store.get("count") == 2


# get_state, set_state, clear


async def test_get_state_returns_an_instance_of_the_state_type() -> None:
    assert isinstance(await typed_store().get_state(), AppState)


async def test_mutating_what_get_state_returned_does_not_change_the_store() -> None:
    store = typed_store()
    await store.set("items", [1])
    snapshot = await store.get_state()
    snapshot.count = 99
    snapshot.items.append(2)
    snapshot.profile.tags.append("x")
    state = await store.get_state()
    assert (state.count, state.items, state.profile.tags) == (0, [1], [])


async def test_get_state_of_a_dict_state_is_a_deep_copy() -> None:
    store = dict_store()
    await store.set("user.name", "Ada")
    snapshot = await store.get_state()
    snapshot.user["name"] = "Bob"
    assert await store.get("user.name") == "Ada"


async def test_set_state_replaces_the_whole_state() -> None:
    store = typed_store()
    await store.set("count", 5)
    await store.set_state(AppState(items=[3]))
    state = await store.get_state()
    assert (state.count, state.items) == (0, [3])


async def test_set_state_rejects_another_model_type_naming_both() -> None:
    store = typed_store()
    with pytest.raises(TypeError, match="AppState") as raised:
        await store.set_state(DictState(count=1))
    assert "DictState" in str(raised.value)
    assert await store.get("count") == 0


async def test_clear_resets_a_typed_state_to_its_defaults() -> None:
    store = typed_store()
    await store.set("count", 5)
    await store.set("profile.name", "Ada")
    await store.clear()
    assert (await store.get_state()).model_dump() == AppState().model_dump()


async def test_clear_empties_a_dict_state() -> None:
    store = dict_store()
    await store.set("a.b", 1)
    await store.clear()
    assert await store.get("a", "gone") == "gone"
    assert isinstance(await store.get_state(), DictState)


# The state type through a workflow


class Tally(BaseModel):
    total: int = 0
    seen: list[str] = []


class Added(Event):
    amount: int


class TallyWorkflow(Workflow):
    @step
    async def add(self, ctx: Context[Tally], ev: StartEvent) -> Added:
        async with ctx.store.edit_state() as state:
            state.seen.append(type(state).__name__)
        return Added(amount=ev.amount)

    @step
    async def total(self, ctx: Context[Tally], ev: Added) -> StopEvent:
        async with ctx.store.edit_state() as state:
            state.total += ev.amount
        return StopEvent(result=await ctx.store.get_state())


async def test_context_of_a_typed_workflow_holds_an_instance_of_the_state_type() -> None:
    ctx = Context(TallyWorkflow())
    assert ctx.store.state_type is Tally
    assert isinstance(await ctx.store.get_state(), Tally)


async def test_steps_annotated_with_context_of_a_type_see_that_type() -> None:
    state = await TallyWorkflow().run(amount=4)
    assert isinstance(state, Tally)
    assert (state.total, state.seen) == (4, ["Tally"])


async def test_typed_state_in_a_run_rejects_unknown_fields() -> None:
    class Intruder(Workflow):
        @step
        async def write(self, ctx: Context[Tally], ev: StartEvent) -> StopEvent:
            await ctx.store.set("not_a_field", 1)
            return StopEvent()

    with pytest.raises(ValueError, match="not_a_field"):
        await Intruder().run()


class Untyped(Workflow):
    @step
    async def only(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.store.set("anything.goes", ev.value)
        return StopEvent(result=await ctx.store.get("anything"))


async def test_a_bare_context_annotation_gives_a_dict_state() -> None:
    assert Context(Untyped()).store.state_type is DictState
    assert await Untyped().run(value=1) == {"goes": 1}


class OneTypedStepOneBare(Workflow):
    @step
    async def first(self, ctx: Context, ev: StartEvent) -> Added:
        return Added(amount=2)

    @step
    async def second(self, ctx: Context[Tally], ev: Added) -> StopEvent:
        return StopEvent(result=ctx.store.state_type)


async def test_one_typed_context_annotation_sets_the_state_type_for_all_steps() -> None:
    assert Context(OneTypedStepOneBare()).store.state_type is Tally
    assert await OneTypedStepOneBare().run() is Tally


class NeedsName(BaseModel):
    name: str


class RequiredFieldState(Workflow):
    @step
    async def only(self, ctx: Context[NeedsName], ev: StartEvent) -> StopEvent:
        return StopEvent()


def test_a_state_type_with_a_required_field_makes_context_raise_naming_the_type() -> None:
    with pytest.raises(WorkflowValidationError, match="NeedsName"):
        Context(RequiredFieldState())


async def test_a_state_type_with_a_required_field_makes_run_raise_at_once() -> None:
    with pytest.raises(WorkflowValidationError, match="NeedsName"):
        RequiredFieldState().run()


class StateA(BaseModel):
    a: int = 0


class StateB(BaseModel):
    b: int = 0


class DisagreeingStates(Workflow):
    @step
    async def first(self, ctx: Context[StateA], ev: StartEvent) -> Added:
        return Added(amount=1)

    @step
    async def second(self, ctx: Context[StateB], ev: Added) -> StopEvent:
        return StopEvent()


def test_steps_disagreeing_on_the_state_type_make_context_raise_naming_both() -> None:
    with pytest.raises(WorkflowValidationError, match="disagree") as raised:
        Context(DisagreeingStates())
    message = str(raised.value)
    assert "StateA" in message
    assert "StateB" in message
    assert "first" in message
    assert "second" in message


async def test_steps_disagreeing_on_the_state_type_make_run_raise() -> None:
    with pytest.raises(WorkflowValidationError, match=r"StateA.*StateB"):
        DisagreeingStates().run()


async def test_context_of_any_is_a_bare_context_and_a_non_model_state_is_refused() -> None:
    class AnyState(Workflow):
        @step
        async def go(self, ctx: Context[Any], ev: StartEvent) -> StopEvent:
            await ctx.store.set("seen", True)
            return StopEvent(result=await ctx.store.get("seen"))

    assert await AnyState().run() is True

    class DictAsState(Workflow):
        @step
        async def go(self, ctx: Context[dict], ev: StartEvent) -> StopEvent:  # type: ignore[type-var]
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match=r"step 'go'.*not a pydantic model"):
        DictAsState().run()


class DictStateAndTyped(Workflow):
    @step
    async def first(self, ctx: Context[DictState], ev: StartEvent) -> Added:
        return Added(amount=1)

    @step
    async def second(self, ctx: Context[StateA], ev: Added) -> StopEvent:
        return StopEvent(result=type(await ctx.store.get_state()).__name__)


async def test_context_of_dict_state_next_to_a_typed_state_gives_the_typed_one() -> None:
    # As LlamaIndex Workflows infers it: Context[DictState] says no more than Context.
    assert await DictStateAndTyped().run() == "StateA"


def test_dict_state_reads_as_a_mapping_even_for_keys_named_as_its_methods() -> None:
    state = DictState()
    state["items"] = 1
    state["count"] = 2
    state.name = "ada"
    del state["count"]
    assert (state["items"], state.get("name"), state.get("gone", "default")) == (
        1,
        "ada",
        "default",
    )
    assert list(state) == list(state.keys()) == ["items", "name"]
    assert list(state.items()) == [("items", 1), ("name", "ada")]
    assert list(state.values()) == [1, "ada"]
    assert ("name" in state, "count" in state, len(state)) == (True, False, 2)
    assert state.model_dump() == {"items": 1, "name": "ada"}
    with pytest.raises(KeyError):
        state["count"]


async def test_dict_state_items_set_in_an_edit_are_in_the_store() -> None:
    store = InMemoryStateStore(DictState())
    async with store.edit_state() as state:
        state["items"] = [1, 2]
    assert await store.get("items") == [1, 2]
    copy = await store.get_state()
    copy["items"].append(3)
    assert await store.get("items") == [1, 2]
