"""Step signatures and step-graph validation: what `run()` refuses, when, and how the
message names the step and event at fault; free steps, overrides and sync steps.

No `from __future__ import annotations` here: many workflows are defined inside the tests,
and their annotations must be real classes, not strings naming local classes.
"""

import asyncio
import threading
from typing import Any, Optional, Union

import pytest

import agentflow.workflow
from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import WorkflowConfigurationError, WorkflowValidationError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StepFailedEvent,
    StopEvent,
)


class Middle(Event):
    value: int = 0


class Orphan(Event):
    pass


class Left(Event):
    value: str


class Right(Event):
    value: str


class Note(Event):
    text: str


# The ends of the graph: WorkflowConfigurationError


async def test_a_workflow_without_steps_is_a_configuration_error() -> None:
    class Empty(Workflow):
        pass

    with pytest.raises(WorkflowConfigurationError, match="Empty") as raised:
        Empty().run()
    assert "no steps" in str(raised.value)


async def test_no_step_accepting_a_start_event_is_a_configuration_error() -> None:
    class NoEntry(Workflow):
        @step
        async def only(self, ev: Middle) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowConfigurationError, match="StartEvent") as raised:
        NoEntry().run()
    assert "NoEntry" in str(raised.value)


async def test_two_start_event_types_are_a_configuration_error_naming_both() -> None:
    class FirstStart(StartEvent):
        pass

    class SecondStart(StartEvent):
        pass

    class TwoEntries(Workflow):
        @step
        async def one(self, ev: FirstStart) -> StopEvent:
            return StopEvent()

        @step
        async def two(self, ev: SecondStart) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowConfigurationError) as raised:
        TwoEntries().run()
    message = str(raised.value)
    for name in ("FirstStart", "SecondStart", "'one'", "'two'"):
        assert name in message


async def test_a_start_event_and_its_subclass_are_two_start_event_types() -> None:
    class Subclassed(StartEvent):
        pass

    class Mixed(Workflow):
        @step
        async def plain(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

        @step
        async def special(self, ev: Subclassed) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowConfigurationError, match="Subclassed"):
        Mixed().run()


async def test_two_steps_accepting_the_same_start_event_type_are_allowed() -> None:
    class Both(Workflow):
        @step
        async def one(self, ev: StartEvent) -> StopEvent | None:
            return StopEvent(result="one") if ev.winner == "one" else None

        @step
        async def two(self, ev: StartEvent) -> StopEvent | None:
            return StopEvent(result="two") if ev.winner == "two" else None

    assert await Both().run(winner="two") == "two"


async def test_no_step_returning_a_stop_event_is_a_configuration_error() -> None:
    class NoExit(Workflow):
        @step
        async def first(self, ev: StartEvent) -> Middle:
            return Middle()

        @step
        async def second(self, ev: Middle) -> None:
            return None

    with pytest.raises(WorkflowConfigurationError, match="StopEvent") as raised:
        NoExit().run()
    assert "NoExit" in str(raised.value)


async def test_returning_a_stop_event_subclass_counts_as_an_exit() -> None:
    class Finished(StopEvent):
        pass

    class SubclassExit(Workflow):
        @step
        async def only(self, ev: StartEvent) -> Finished:
            return Finished(result="finished")

    assert await SubclassExit().run() == "finished"


def test_configuration_errors_are_validation_errors() -> None:
    assert issubclass(WorkflowConfigurationError, WorkflowValidationError)


# The middle of the graph: WorkflowValidationError


async def test_an_emitted_event_nobody_accepts_names_the_step_and_event() -> None:
    class Dangling(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError) as raised:
        Dangling().run()
    assert raised.type is WorkflowValidationError
    assert "'start'" in str(raised.value)
    assert "Orphan" in str(raised.value)


async def test_an_accepted_event_nobody_emits_names_the_step_and_event() -> None:
    class Unreachable(Workflow):
        @step
        async def start(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

        @step
        async def never(self, ev: Orphan) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError) as raised:
        Unreachable().run()
    assert raised.type is WorkflowValidationError
    assert "'never'" in str(raised.value)
    assert "Orphan" in str(raised.value)


async def test_accepting_a_base_event_emitted_as_a_subclass_is_valid() -> None:
    class Special(Middle):
        pass

    class ByBase(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Special:
            return Special(value=3)

        @step
        async def finish(self, ev: Middle) -> StopEvent:
            return StopEvent(result=(type(ev).__name__, ev.value))

    assert await ByBase().run() == ("Special", 3)


async def test_human_response_consumers_and_input_required_producers_are_valid() -> None:
    class Asking(Workflow):
        @step
        async def ask(self, ev: StartEvent) -> InputRequiredEvent:
            return InputRequiredEvent(prefix="name? ")

        @step
        async def answer(self, ev: HumanResponseEvent) -> StopEvent:
            return StopEvent(result=f"hello {ev.response}")

    handler = Asking().run()
    prompts = []
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            prompts.append(event.prefix)
            handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    assert await handler == "hello Ada"
    assert prompts == ["name? "]


async def test_a_human_response_subclass_consumer_is_valid() -> None:
    class Approval(HumanResponseEvent):
        approved: bool

    class Approving(Workflow):
        @step
        async def ask(self, ev: StartEvent) -> InputRequiredEvent:
            return InputRequiredEvent()

        @step
        async def decide(self, ev: Approval) -> StopEvent:
            return StopEvent(result=ev.approved)

    handler = Approving().run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(Approval(approved=True))
    assert await handler is True


# Step signatures


def test_an_event_parameter_without_annotation_names_the_step_and_parameter() -> None:
    with pytest.raises(WorkflowValidationError) as raised:  # when decorated, as LlamaIndex

        class Unannotated(Workflow):
            @step
            async def start(self, ev) -> StopEvent:
                return StopEvent()

    message = str(raised.value)
    assert "'start'" in message
    assert "'ev'" in message
    assert "Unannotated" in message


def test_a_step_without_an_event_parameter_names_the_step() -> None:
    with pytest.raises(WorkflowValidationError, match="'start' of ContextOnly") as raised:

        class ContextOnly(Workflow):
            @step
            async def start(self, ctx: Context) -> StopEvent:
                return StopEvent()

    assert "'ctx' is annotated Context" in str(raised.value)


def test_a_missing_return_annotation_names_the_step() -> None:
    with pytest.raises(WorkflowValidationError, match="'start' of NoReturn") as raised:

        class NoReturn(Workflow):
            @step
            async def start(self, ev: StartEvent):
                return StopEvent()

    assert "return annotation" in str(raised.value)


async def test_an_extra_parameter_without_annotation_names_the_step_and_parameter() -> None:
    class ExtraParameter(Workflow):
        @step
        async def start(self, ev: StartEvent, retries) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'start'") as raised:
        ExtraParameter().run()
    assert "'retries'" in str(raised.value)


async def test_an_extra_parameter_annotated_with_a_non_event_names_it() -> None:
    class WrongParameter(Workflow):
        @step
        async def start(self, ev: StartEvent, retries: int) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'start'") as raised:
        WrongParameter().run()
    assert "'retries'" in str(raised.value)


async def test_an_extra_parameter_with_a_default_keeps_its_default() -> None:
    class Defaulted(Workflow):
        @step
        async def start(self, ev: StartEvent, retries=3, label: str = "x") -> StopEvent:
            return StopEvent(result=(retries, label))

    assert await Defaulted().run() == (3, "x")


@pytest.mark.parametrize("annotation", [str, int, Any, Union[StopEvent, str]])  # noqa: UP007
async def test_a_non_event_return_annotation_names_the_step(annotation: Any) -> None:
    class BadReturn(Workflow):
        @step
        async def start(self, ev: StartEvent) -> annotation:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'start'") as raised:
        BadReturn().run()
    assert "return annotation" in str(raised.value)


async def test_two_event_parameters_name_the_step_and_both_parameters() -> None:
    class TwoEvents(Workflow):
        @step
        async def start(self, ev: StartEvent, other: Middle) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'start'") as raised:
        TwoEvents().run()
    assert "'ev'" in str(raised.value)
    assert "'other'" in str(raised.value)


async def test_context_and_event_parameters_may_come_in_any_order_or_by_keyword() -> None:
    class Arranged(Workflow):
        @step
        async def event_first(self, ev: StartEvent, ctx: Context) -> Middle:
            await ctx.store.set("order", ["event_first"])
            return Middle(value=ev.value)

        @step
        async def keyword_only(self, *, ctx: Context, ev: Middle) -> Note:
            order = await ctx.store.get("order")
            await ctx.store.set("order", [*order, "keyword_only"])
            return Note(text=str(ev.value))

        @step
        async def event_only(self, ev: Note) -> Left:
            return Left(value=ev.text)

        @step
        async def context_first(self, ctx: Context, ev: Left) -> StopEvent:
            return StopEvent(result=(ev.value, await ctx.store.get("order")))

    assert await Arranged().run(value=5) == ("5", ["event_first", "keyword_only"])


# Union events and optional returns


class Branching(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Left | Right:
        return Left(value=ev.text) if ev.side == "left" else Right(value=ev.text)

    @step
    async def handle(self, ev: Left | Right) -> StopEvent:
        return StopEvent(result=(type(ev).__name__, ev.value))


async def test_a_union_event_parameter_receives_every_member_type() -> None:
    workflow = Branching()
    assert await workflow.run(side="left", text="a") == ("Left", "a")
    assert await workflow.run(side="right", text="b") == ("Right", "b")


async def test_a_typing_union_event_parameter_receives_every_member_type() -> None:
    class TypingUnion(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Union[Left, Right]:  # noqa: UP007
            return Left(value="l") if ev.side == "left" else Right(value="r")

        @step
        async def handle(self, ev: Union[Left, Right]) -> StopEvent:  # noqa: UP007
            return StopEvent(result=type(ev).__name__)

    assert await TypingUnion().run(side="left") == "Left"
    assert await TypingUnion().run(side="right") == "Right"


async def test_optional_and_none_union_returns_are_valid_and_none_emits_nothing() -> None:
    class Optionals(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> Optional[Middle]:  # noqa: UP045
            for value in range(3):
                ctx.send_event(Middle(value=value))
            return None

        @step
        async def gather(self, ctx: Context, ev: Middle) -> StopEvent | None:
            done = ctx.collect_events(ev, Middle, count=3)
            return None if done is None else StopEvent(result=sorted(e.value for e in done))

    assert await Optionals().run() == [0, 1, 2]


async def test_a_step_returning_only_none_is_valid() -> None:
    class Silent(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> StopEvent:
            return StopEvent(result="done")

        @step
        async def observe(self, ev: StartEvent) -> None:
            return None

    assert await Silent().run() == "done"


async def test_from_future_annotations_workflow_resolves_and_runs() -> None:
    from _future_annotations_workflow import FutureWorkflow, Trail

    workflow = FutureWorkflow()
    assert Context(workflow).store.state_type is Trail
    assert await workflow.run(text="home", short=True) == ("home", ["begin", "arrive", "finish"])
    assert await workflow.run(text="home", short=False) == (
        "home via detour",
        ["begin", "detour", "arrive", "finish"],
    )


# When validation happens


def test_a_workflow_whose_middle_is_invalid_is_refused_at_run_not_when_made() -> None:
    class Invalid(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent()

    assert isinstance(Invalid(), Invalid)  # LlamaIndex Workflows waits for run() too


def test_a_workflow_without_an_exit_is_refused_when_made_even_unvalidated() -> None:
    class NoExit(Workflow):
        @step
        async def start(self, ev: StartEvent) -> None:
            return None

    with pytest.raises(WorkflowConfigurationError, match="NoExit: no step returns a StopEvent"):
        NoExit(disable_validation=True)


def test_two_stop_event_types_are_refused_when_made_naming_the_steps() -> None:
    class Finished(StopEvent):
        pass

    class TwoExits(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Middle | StopEvent:
            return StopEvent()

        @step
        async def finish(self, ev: Middle) -> Finished:
            return Finished()

    with pytest.raises(WorkflowConfigurationError) as raised:
        TwoExits()
    assert str(raised.value).startswith(
        "workflow TwoExits: only one StopEvent type may end its runs, found 'start' returns "
        "StopEvent, 'finish' returns Finished."
    )


def test_a_step_is_checked_when_decorated_naming_the_step_and_its_parameters() -> None:
    with pytest.raises(WorkflowValidationError) as raised:

        class Untyped(Workflow):
            @step
            async def start(self, ctx: Context, ev) -> StopEvent:
                return StopEvent()

    assert str(raised.value).startswith(
        "step 'start' of Untyped: no parameter is annotated with an Event type ('ctx' is "
        "annotated Context; 'ev' has no annotation)"
    )


def test_a_free_function_step_needs_its_workflow() -> None:
    with pytest.raises(WorkflowValidationError, match=r"@step\(workflow=MyWorkflow\)"):

        @step
        async def start(ev: StartEvent) -> StopEvent:
            return StopEvent()


def test_an_async_generator_step_is_refused_when_decorated() -> None:
    with pytest.raises(WorkflowValidationError, match="'start' of Streams is an async generator"):

        class Streams(Workflow):
            @step
            async def start(self, ev: StartEvent) -> StopEvent:
                yield StopEvent()


@pytest.mark.parametrize("for_steps", ["start", ["start", 1]])
def test_catch_error_for_steps_must_be_a_list_of_names(for_steps: Any) -> None:
    with pytest.raises(WorkflowValidationError, match=r"for_steps=\['fetch'\], got "):

        class Scoped(Workflow):
            @catch_error(for_steps=for_steps)
            async def recover(self, ev: StepFailedEvent) -> StopEvent:
                return StopEvent()


def test_a_catch_error_step_not_taking_step_failed_event_is_refused_when_decorated() -> None:
    with pytest.raises(WorkflowValidationError) as raised:

        class Wrong(Workflow):
            @catch_error
            async def recover(self, ev: StartEvent) -> StopEvent:
                return StopEvent()

    assert str(raised.value).startswith(
        "workflow Wrong: @catch_error step 'recover' must take a StepFailedEvent"
    )


async def test_an_event_consumed_but_never_produced_is_reported_before_one_never_consumed() -> None:
    class BothWrong(Workflow):  # in LlamaIndex Workflows' order
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent()

        @step
        async def waits(self, ev: Note) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="step 'waits' accepts Note but no step"):
        BothWrong().run()


async def test_validation_errors_are_raised_synchronously_by_run() -> None:
    class Invalid(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent()

    tasks_before = asyncio.all_tasks()
    with pytest.raises(WorkflowValidationError, match="Orphan"):
        Invalid().run()
    assert asyncio.all_tasks() == tasks_before


def test_validation_runs_before_the_event_loop_check() -> None:
    class Invalid(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="Orphan"):
        Invalid().run()


async def test_a_valid_workflow_is_validated_once_per_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    validate = agentflow.workflow.validate_step_graph

    def counting_validate(table: Any) -> None:
        calls.append(table.workflow_name)
        validate(table)

    monkeypatch.setattr(agentflow.workflow, "validate_step_graph", counting_validate)

    class ValidatedOnce(Workflow):
        @step
        async def only(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result=ev.n)

    workflow = ValidatedOnce()
    assert await workflow.run(n=1) == 1
    assert await workflow.run(n=2) == 2
    assert await ValidatedOnce().run(n=3) == 3
    assert calls == ["ValidatedOnce"]


async def test_a_subclass_is_validated_on_its_own() -> None:
    class ValidBase(Workflow):
        @step
        async def only(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result="base")

    class BrokenChild(ValidBase):
        @step
        async def extra(self, ev: StartEvent) -> Orphan | None:
            return None

    assert await ValidBase().run() == "base"
    with pytest.raises(WorkflowValidationError, match=r"'extra'.*Orphan"):
        BrokenChild().run()
    assert await ValidBase().run() == "base"


async def test_an_invalid_workflow_raises_on_every_run() -> None:
    class Invalid(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent()

    for _ in range(2):
        with pytest.raises(WorkflowValidationError, match="Orphan"):
            Invalid().run()


async def test_adding_a_step_after_a_run_validates_the_graph_again() -> None:
    class Growing(Workflow):
        @step
        async def only(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result="ok")

    assert await Growing().run() == "ok"

    @step(workflow=Growing)
    async def unreachable(ev: Orphan) -> StopEvent:
        return StopEvent()

    with pytest.raises(WorkflowValidationError, match=r"'unreachable'.*Orphan"):
        Growing().run()


class Ping(Event):
    pass


class Pong(Event):
    pass


class PingPong(Workflow):
    """'a' and 'b' feed each other, but nothing that runs from the start event feeds them."""

    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="started")

    @step
    async def a(self, ev: Ping) -> Pong:
        return Pong()

    @step
    async def b(self, ev: Pong) -> Ping | StopEvent:
        return StopEvent(result="never")


async def test_a_cycle_nothing_reachable_feeds_is_refused_naming_its_steps() -> None:
    with pytest.raises(WorkflowValidationError) as raised:
        PingPong().run()
    message = str(raised.value)
    assert raised.type is WorkflowValidationError
    assert "PingPong" in message
    assert "'a' (accepts Ping)" in message
    assert "'b' (accepts Pong)" in message
    assert "'start'" not in message


async def test_steps_fed_only_from_a_human_response_are_reachable() -> None:
    class Answer(HumanResponseEvent):
        text: str

    class AskThenEcho(Workflow):
        @step
        async def ask(self, ev: StartEvent) -> InputRequiredEvent:
            return InputRequiredEvent(prefix="say something")

        @step
        async def heard(self, ev: Answer) -> Note:
            return Note(text=ev.text)

        @step
        async def echo(self, ev: Note) -> StopEvent:
            return StopEvent(result=ev.text.upper())

    handler = AskThenEcho().run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(Answer(response="", text="hi"))
    assert await handler == "HI"


async def test_steps_fed_only_by_a_reachable_steps_catch_error_handler_are_reachable() -> None:
    class Fails(Workflow):
        @step
        async def start(self, ev: StartEvent) -> StopEvent:
            raise RuntimeError("boom")

        @catch_error
        async def recover(self, ev: StepFailedEvent) -> Note:
            return Note(text=f"{ev.step_name} failed")

        @step
        async def report(self, ev: Note) -> StopEvent:
            return StopEvent(result=ev.text)

    assert await Fails().run() == "start failed"


async def test_a_subclass_emitted_by_a_reachable_step_reaches_a_base_class_consumer() -> None:
    class LoudPing(Ping):
        pass

    class ViaSubclass(Workflow):
        @step
        async def start(self, ev: StartEvent) -> LoudPing:
            return LoudPing()

        @step
        async def a(self, ev: Ping) -> Pong:
            return Pong()

        @step
        async def b(self, ev: Pong) -> StopEvent:
            return StopEvent(result="reached")

    assert await ViaSubclass().run() == "reached"


async def test_a_step_fed_from_outside_may_skip_the_reachability_check() -> None:
    class Outside(Workflow):
        @step
        async def start(self, ev: StartEvent) -> None:
            return None

        @step(skip_graph_checks=["reachability"])
        async def on_ping(self, ev: Ping) -> Pong:
            return Pong()

        @step
        async def finish(self, ev: Pong) -> StopEvent:
            return StopEvent(result="pinged from outside")

    handler = Outside().run()
    handler.ctx.send_event(Ping())
    assert await handler == "pinged from outside"


async def test_without_the_skip_a_step_fed_from_outside_is_refused() -> None:
    class Outside(Workflow):
        @step
        async def start(self, ev: StartEvent) -> None:
            return None

        @step
        async def on_ping(self, ev: Ping) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match=r"'on_ping'.*Ping.*skip_graph_checks"):
        Outside().run()


def test_skip_graph_checks_refuses_an_unknown_check_naming_it() -> None:
    with pytest.raises(WorkflowValidationError, match=r"lonely'.*'dead_end'.*reachability"):

        @step(skip_graph_checks=["dead_end"])
        async def lonely(ev: StartEvent) -> StopEvent:
            return StopEvent()


def test_skip_graph_checks_given_one_name_rather_than_a_list_says_so() -> None:
    with pytest.raises(WorkflowValidationError) as raised:

        @step(skip_graph_checks="reachability")  # type: ignore[arg-type]
        async def lonely(ev: StartEvent) -> StopEvent:
            return StopEvent()

    assert str(raised.value).endswith(
        "lonely': skip_graph_checks takes a list of check names, as in "
        "skip_graph_checks=['reachability'], got the str 'reachability'"
    )


async def test_disable_validation_runs_a_workflow_with_unreachable_steps() -> None:
    assert await PingPong(disable_validation=True).run() == "started"


async def test_disable_validation_lets_a_workflow_with_a_dangling_event_run() -> None:
    class Dangling(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Orphan | StopEvent:
            return StopEvent(result="ran anyway")

    with pytest.raises(WorkflowValidationError):
        Dangling().run()
    assert await Dangling(disable_validation=True).run() == "ran anyway"


async def test_disable_validation_still_reads_step_signatures() -> None:
    class TwoEvents(Workflow):
        @step
        async def start(self, ev: StartEvent, other: Middle) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'start'"):
        TwoEvents(disable_validation=True).run()


# @step options


@pytest.mark.parametrize("num_workers", [0, -1, True, 1.5, "2"])
def test_step_rejects_a_num_workers_that_is_not_a_positive_int(num_workers: Any) -> None:
    with pytest.raises(WorkflowValidationError, match="num_workers") as raised:

        @step(num_workers=num_workers)
        async def crowded(ev: StartEvent) -> StopEvent:
            return StopEvent()

    assert "crowded" in str(raised.value)


def test_step_rejects_what_is_not_callable() -> None:
    with pytest.raises(WorkflowValidationError, match="function"):
        step("not a function")


async def test_decorating_with_and_without_options_both_make_steps() -> None:
    class Both(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Middle:
            return Middle(value=ev.value)

        @step(num_workers=1)
        async def finish(self, ev: Middle) -> StopEvent:
            return StopEvent(result=ev.value * 2)

    assert await Both().run(value=4) == 8


# Free steps added with @step(workflow=...)


async def test_a_free_step_without_context_is_added_and_runs() -> None:
    class Host(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Middle:
            return Middle(value=ev.value)

    @step(workflow=Host)
    async def finish(ev: Middle) -> StopEvent:
        return StopEvent(result=ev.value + 1)

    assert await Host().run(value=1) == 2


async def test_a_free_step_with_context_is_added_and_runs() -> None:
    class Host(Workflow):
        @step
        async def start(self, ctx: Context, ev: StartEvent) -> Middle:
            await ctx.store.set("seen", "start")
            return Middle(value=ev.value)

    @step(workflow=Host)
    async def finish(ctx: Context, ev: Middle) -> StopEvent:
        return StopEvent(result=(ev.value, await ctx.store.get("seen")))

    assert await Host().run(value=7) == (7, "start")


async def test_a_free_step_can_be_the_only_step() -> None:
    class Bare(Workflow):
        pass

    @step(workflow=Bare)
    async def only(ev: StartEvent) -> StopEvent:
        return StopEvent(result="free")

    assert await Bare().run() == "free"


async def test_a_free_step_on_a_base_class_is_inherited() -> None:
    class Base(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Middle:
            return Middle(value=1)

    class Child(Base):
        pass

    @step(workflow=Base)
    async def finish(ev: Middle) -> StopEvent:
        return StopEvent(result="inherited")

    assert await Child().run() == "inherited"


def test_a_free_step_named_like_a_method_step_is_refused() -> None:
    class Host(Workflow):
        @step
        async def finish(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'finish'") as raised:

        @step(workflow=Host)
        async def finish(ev: StartEvent) -> StopEvent:
            return StopEvent()

    assert "Host" in str(raised.value)


def test_a_free_step_named_like_an_inherited_method_step_is_refused() -> None:
    class Base(Workflow):
        @step
        async def finish(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

    class Child(Base):
        pass

    with pytest.raises(WorkflowValidationError, match="'finish'"):

        @step(workflow=Child)
        async def finish(ev: StartEvent) -> StopEvent:
            return StopEvent()


def test_adding_two_free_steps_with_one_name_is_refused() -> None:
    class Host(Workflow):
        pass

    @step(workflow=Host)
    async def twin(ev: StartEvent) -> StopEvent:
        return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'twin'") as raised:

        @step(workflow=Host)
        async def twin(ev: StartEvent) -> StopEvent:
            return StopEvent()

    assert "A step twin is already part of this workflow" in str(raised.value)  # LlamaIndex's


async def test_a_refused_duplicate_leaves_the_method_step_in_place() -> None:
    class Host(Workflow):
        @step
        async def finish(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result="method")

    async def finish(ev: StartEvent) -> StopEvent:
        return StopEvent(result="free")

    with pytest.raises(WorkflowValidationError):
        step(workflow=Host)(finish)
    assert await Host().run() == "method"


def test_add_step_refuses_an_undecorated_function() -> None:
    class Host(Workflow):
        pass

    async def plain(ev: StartEvent) -> StopEvent:
        return StopEvent()

    with pytest.raises(WorkflowValidationError, match="not decorated") as raised:
        Host.add_step(plain)
    assert "Step function plain is missing the `@step` decorator." in str(raised.value)


async def test_a_free_step_on_one_workflow_is_not_a_step_of_another() -> None:
    class Host(Workflow):
        @step
        async def start(self, ev: StartEvent) -> Middle:
            return Middle()

    class Other(Workflow):
        @step
        async def start(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result="other")

    @step(workflow=Host)
    async def finish(ev: Middle) -> StopEvent:
        return StopEvent(result="host")

    assert await Host().run() == "host"
    assert await Other().run() == "other"


# Overrides in subclasses


class Prebuilt(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Middle:
        return Middle(value=ev.value)

    @step
    async def finish(self, ev: Middle) -> StopEvent:
        return StopEvent(result=f"prebuilt {ev.value}")


class Customised(Prebuilt):
    async def finish(self, ev: Middle) -> StopEvent:
        return StopEvent(result=f"customised {ev.value}")


async def test_an_undecorated_override_of_a_step_is_the_step_that_runs() -> None:
    assert await Customised().run(value=1) == "customised 1"


async def test_overriding_a_step_in_a_subclass_leaves_the_base_class_alone() -> None:
    assert await Customised().run(value=1) == "customised 1"
    assert await Prebuilt().run(value=2) == "prebuilt 2"


async def test_an_override_may_call_the_base_step() -> None:
    class Wrapping(Prebuilt):
        async def finish(self, ev: Middle) -> StopEvent:
            inner = await super().finish(ev)
            return StopEvent(result=f"[{inner.result}]")

    assert await Wrapping().run(value=3) == "[prebuilt 3]"


async def test_an_undecorated_override_is_validated_with_its_own_signature() -> None:
    class Broken(Prebuilt):
        async def finish(self, ev: Middle):
            return StopEvent()

    with pytest.raises(WorkflowValidationError, match="'finish'"):
        Broken().run()


# Sync steps


class SyncChain(Workflow):
    @step
    def start(self, ctx: Context, ev: StartEvent) -> Middle | None:
        ctx.write_event_to_stream(Note(text="from sync step"))
        ctx.send_event(Middle(value=int(threading.current_thread() is threading.main_thread())))
        return None

    @step
    def finish(self, ev: Middle) -> StopEvent:
        off_main = threading.current_thread() is not threading.main_thread()
        return StopEvent(result={"start_on_main": bool(ev.value), "finish_off_main": off_main})


async def test_sync_steps_run_in_a_worker_thread() -> None:
    assert threading.current_thread() is threading.main_thread()
    assert await SyncChain().run() == {"start_on_main": False, "finish_off_main": True}


async def test_send_event_and_write_event_to_stream_work_from_a_sync_step() -> None:
    handler = SyncChain().run()
    streamed = [event async for event in handler.stream_events()]
    assert await handler == {"start_on_main": False, "finish_off_main": True}
    notes = [event.text for event in streamed if isinstance(event, Note)]
    assert notes == ["from sync step"]
    assert isinstance(streamed[-1], StopEvent)


async def test_a_sync_step_may_return_the_next_event() -> None:
    class SyncReturn(Workflow):
        @step
        def start(self, ev: StartEvent) -> Middle:
            return Middle(value=ev.value + 1)

        @step
        async def finish(self, ev: Middle) -> StopEvent:
            return StopEvent(result=ev.value)

    assert await SyncReturn().run(value=1) == 2


async def test_a_sync_free_step_runs_in_a_worker_thread() -> None:
    class Host(Workflow):
        pass

    @step(workflow=Host)
    def only(ev: StartEvent) -> StopEvent:
        return StopEvent(result=threading.current_thread() is threading.main_thread())

    assert await Host().run() is False


def test_a_step_accepting_a_stop_event_is_refused() -> None:
    class AfterTheEnd(Workflow):
        @step
        async def begin(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result="done")

        @step
        async def after_stop(self, ev: StopEvent) -> None:
            return None

    with pytest.raises(WorkflowValidationError, match="'after_stop' accepts StopEvent"):
        AfterTheEnd()._validated_step_table()
