"""Events: extra fields, dict-like access, typed subclasses, private attributes, StopEvent
and the terminal events."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import PrivateAttr, ValidationError

from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    WorkflowCancelledEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)


class Order(Event):
    """A typed event: declared fields are validated, extra ones are still accepted."""

    item: str
    quantity: int = 1


class Secretive(Event):
    """An event with private attributes, one without a default and one with."""

    _secret: int = PrivateAttr()
    _tag: str = PrivateAttr(default="untagged")
    visible: int = 0


class Verdict(StopEvent):
    score: float
    label: str = "unlabelled"


class PrivateStop(StopEvent):
    """A StopEvent subclass with a private attribute (so its constructor is replaced)."""

    _trace: list[str] = PrivateAttr(default_factory=list)


# Extra fields


def test_extra_keyword_arguments_become_attributes() -> None:
    ev = StartEvent(input_msg="hi", count=3)
    assert ev.input_msg == "hi"
    assert ev.count == 3


def test_a_missing_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = StartEvent(a=1).b


def test_extra_fields_are_kept_next_to_declared_ones_on_a_typed_event() -> None:
    ev = Order(item="tea", note="no sugar")
    assert (ev.item, ev.quantity, ev.note) == ("tea", 1, "no sugar")


# Dict-like access


def test_item_access_reads_extra_and_declared_fields() -> None:
    ev = Order(item="tea", note="hot")
    assert ev["note"] == "hot"
    assert ev["item"] == "tea"
    assert ev["quantity"] == 1


def test_item_access_to_a_missing_key_raises_key_error_naming_it() -> None:
    ev = StartEvent(present=1)
    with pytest.raises(KeyError, match="missing"):
        _ = ev["missing"]


def test_get_returns_the_value_or_the_default() -> None:
    ev = Order(item="tea", note="hot")
    assert ev.get("note") == "hot"
    assert ev.get("item") == "tea"
    assert ev.get("missing") is None
    assert ev.get("missing", 0) == 0


def test_get_returns_a_falsy_stored_value_rather_than_the_default() -> None:
    ev = StartEvent(zero=0, empty="", nothing=None)
    assert ev.get("zero", 99) == 0
    assert ev.get("empty", "default") == ""
    assert ev.get("nothing", "default") is None


def test_in_checks_declared_and_extra_fields() -> None:
    ev = Order(item="tea", note="hot")
    assert "item" in ev
    assert "quantity" in ev
    assert "note" in ev
    assert "missing" not in ev


def test_in_is_false_for_non_string_keys() -> None:
    ev = StartEvent(a=1)
    assert 1 not in ev
    assert None not in ev


def test_a_declared_field_holding_none_is_still_in_the_event() -> None:
    assert "result" in StopEvent()


def test_keys_values_items_list_declared_fields_first_then_extra_ones() -> None:
    ev = Order(note="hot", item="tea", size="large")
    assert list(ev.keys()) == ["item", "quantity", "note", "size"]
    assert list(ev.values()) == ["tea", 1, "hot", "large"]
    assert list(ev.items()) == [
        ("item", "tea"),
        ("quantity", 1),
        ("note", "hot"),
        ("size", "large"),
    ]


def test_keys_of_an_event_with_only_extra_fields_follow_construction_order() -> None:
    ev = StartEvent(b=2, a=1)
    assert list(ev.keys()) == ["b", "a"]


def test_to_dict_holds_declared_and_extra_fields() -> None:
    ev = Order(item="tea", note="hot")
    assert ev.to_dict() == {"item": "tea", "quantity": 1, "note": "hot"}


def test_to_dict_is_a_new_dict_each_time() -> None:
    ev = StartEvent(a=1)
    snapshot = ev.to_dict()
    snapshot["a"] = 2
    snapshot["b"] = 3
    assert ev.to_dict() == {"a": 1}
    assert "b" not in ev


def test_to_dict_does_not_copy_values() -> None:
    payload = [1, 2]
    ev = StartEvent(payload=payload)
    assert ev.to_dict()["payload"] is payload


def test_an_empty_event_has_no_keys() -> None:
    ev = StartEvent()
    assert list(ev.keys()) == []
    assert ev.to_dict() == {}


def test_item_assignment_adds_a_new_field_visible_everywhere() -> None:
    ev = StartEvent(a=1)
    ev["b"] = 2
    assert ev.b == 2
    assert ev["b"] == 2
    assert "b" in ev
    assert ev.to_dict() == {"a": 1, "b": 2}


def test_item_assignment_replaces_an_existing_field() -> None:
    ev = Order(item="tea", note="hot")
    ev["item"] = "coffee"
    ev["note"] = "cold"
    assert (ev.item, ev.note) == ("coffee", "cold")


def test_attribute_assignment_is_seen_by_item_access() -> None:
    ev = StartEvent()
    ev.late = "added"
    assert ev["late"] == "added"
    assert list(ev.keys()) == ["late"]


def test_model_copy_keeps_extra_fields() -> None:
    ev = StartEvent(a=1)
    copy = ev.model_copy()
    assert copy.to_dict() == {"a": 1}
    copy["a"] = 2
    assert ev["a"] == 1


def test_an_extra_field_named_like_a_dict_method_is_readable_by_key() -> None:
    ev = StartEvent(items=[1, 2], keys="k")
    assert ev.to_dict() == {"items": [1, 2], "keys": "k"}
    assert ev["items"] == [1, 2]
    assert ev.get("keys") == "k"


def test_a_method_name_is_not_a_field() -> None:
    ev = StartEvent()
    assert "keys" not in ev
    assert ev.get("keys", "fallback") == "fallback"
    with pytest.raises(KeyError):
        _ = ev["keys"]


# Typed subclasses


def test_typed_fields_are_validated() -> None:
    with pytest.raises(ValidationError, match="quantity"):
        Order(item="tea", quantity="many")


def test_a_required_typed_field_must_be_given() -> None:
    with pytest.raises(ValidationError, match="item"):
        Order(quantity=2)


def test_typed_fields_are_coerced_like_pydantic_does() -> None:
    assert Order(item="tea", quantity="3").quantity == 3


def test_arbitrary_types_are_allowed_as_field_values() -> None:
    class Handle:
        pass

    handle = Handle()
    assert StartEvent(handle=handle)["handle"] is handle


def test_model_dump_holds_declared_and_extra_fields() -> None:
    assert Order(item="tea", note="hot").model_dump() == {
        "item": "tea",
        "quantity": 1,
        "note": "hot",
    }


# Private attributes


def test_a_private_attribute_is_settable_through_the_constructor() -> None:
    ev = Secretive(_secret=1)
    assert ev._secret == 1


def test_a_private_attribute_not_given_keeps_its_default() -> None:
    assert Secretive(_secret=1)._tag == "untagged"
    assert Secretive(_secret=1, _tag="t")._tag == "t"


def test_a_private_attribute_without_default_is_missing_until_set() -> None:
    ev = Secretive()
    with pytest.raises(AttributeError):
        _ = ev._secret
    ev._secret = 5
    assert ev._secret == 5


def test_private_attributes_are_not_fields() -> None:
    ev = Secretive(_secret=1, visible=2, extra="x")
    assert ev.model_dump() == {"visible": 2, "extra": "x"}
    assert ev.to_dict() == {"visible": 2, "extra": "x"}
    assert list(ev.keys()) == ["visible", "extra"]
    assert "_secret" not in ev


def test_an_event_with_private_attributes_still_validates_typed_fields() -> None:
    with pytest.raises(ValidationError, match="visible"):
        Secretive(_secret=1, visible="not a number")


def test_private_attribute_values_are_per_instance() -> None:
    first, second = PrivateStop(), PrivateStop()
    first._trace.append("a")
    assert second._trace == []


def test_model_copy_keeps_private_attributes() -> None:
    ev = Secretive(_secret=7, _tag="t")
    copy = ev.model_copy()
    assert (copy._secret, copy._tag) == (7, "t")


# StopEvent


def test_stop_event_result_defaults_to_none() -> None:
    assert StopEvent().result is None


@pytest.mark.parametrize("result", ["done", 0, False, [], {"k": "v"}])
def test_stop_event_takes_result_by_keyword_or_positionally(result: Any) -> None:
    assert StopEvent(result=result).result == result
    assert StopEvent(result).result == result


def test_positional_stop_event_result_is_the_object_itself() -> None:
    payload = object()
    assert StopEvent(payload).result is payload


def test_stop_event_accepts_extra_fields_next_to_its_result() -> None:
    ev = StopEvent("done", reason="finished")
    assert ev.result == "done"
    assert ev["reason"] == "finished"
    assert ev.to_dict() == {"result": "done", "reason": "finished"}


@pytest.mark.parametrize("result", [3, "text", None, [1, 2]])
def test_str_of_stop_event_is_str_of_its_result(result: Any) -> None:
    assert str(StopEvent(result=result)) == str(result)


def test_stop_event_subclass_validates_its_typed_fields() -> None:
    with pytest.raises(ValidationError, match="score"):
        Verdict(score="high")


def test_stop_event_subclass_keeps_result_and_its_own_fields() -> None:
    ev = Verdict(score=0.9, result="ok")
    assert (ev.score, ev.label, ev.result) == (0.9, "unlabelled", "ok")
    assert list(ev.keys()) == ["result", "score", "label"]


def test_stop_event_dumps_and_shows_its_result_last_and_only_when_set() -> None:
    # As LlamaIndex Workflows does; agentflow keeps the extra fields in the dump too.
    assert StopEvent().model_dump() == {}
    assert repr(Verdict(score=0.5)) == "Verdict(score=0.5, label='unlabelled')"
    ev = Verdict("ok", score=0.5, source="judge")
    assert repr(ev) == "Verdict(source='judge', score=0.5, label='unlabelled', result='ok')"
    assert list(ev.model_dump()) == ["score", "label", "source", "result"]
    assert Verdict.model_validate_json(ev.model_dump_json()) == ev


def test_a_stop_event_dump_naming_its_fields_gets_an_unset_result() -> None:
    assert StopEvent().model_dump(include={"result"}) == {"result": None}
    assert StopEvent(result=1).model_dump(exclude={"result"}) == {}


def test_stop_event_subclass_accepts_a_positional_result() -> None:
    ev = Verdict("ok", score=0.5)
    assert (ev.result, ev.score) == ("ok", 0.5)


def test_stop_event_subclass_with_private_attribute_takes_keyword_result() -> None:
    ev = PrivateStop(result="done", _trace=["a"])
    assert (ev.result, ev._trace) == ("done", ["a"])


def test_stop_event_subclass_with_private_attribute_accepts_a_positional_result() -> None:
    assert PrivateStop("done").result == "done"


def test_a_parents_own_init_still_runs_for_a_subclass_with_private_attributes() -> None:
    class Labelled(Event):
        def __init__(self, **data: Any) -> None:
            data.setdefault("label", "default")
            super().__init__(**data)

    class LabelledWithPrivate(Labelled):
        _note: str = PrivateAttr(default="")

    assert Labelled()["label"] == "default"
    assert LabelledWithPrivate()["label"] == "default"


# The other events


@pytest.mark.parametrize(
    "event_type",
    [StartEvent, StopEvent, InputRequiredEvent, HumanResponseEvent],
)
def test_every_event_type_is_an_event_with_extra_fields(event_type: type[Event]) -> None:
    ev = event_type(prefix="Name?", response="Ada")
    assert isinstance(ev, Event)
    assert ev["prefix"] == "Name?"
    assert ev.get("response") == "Ada"


@pytest.mark.parametrize(
    "event_type",
    [WorkflowFailedEvent, WorkflowTimedOutEvent, WorkflowCancelledEvent],
)
def test_terminal_events_are_stop_events(event_type: type[StopEvent]) -> None:
    assert issubclass(event_type, StopEvent)


def test_workflow_failed_event_carries_the_step_and_exception() -> None:
    error = RuntimeError("boom")
    ev = WorkflowFailedEvent(step_name="parse", exception=error)
    assert ev.step_name == "parse"
    assert ev.exception is error
    assert ev.result is None


def test_workflow_failed_event_requires_step_name_and_exception() -> None:
    with pytest.raises(ValidationError, match="exception"):
        WorkflowFailedEvent(step_name="parse")
    with pytest.raises(ValidationError, match="step_name"):
        WorkflowFailedEvent(exception=RuntimeError())


def test_workflow_failed_event_exception_must_be_an_exception() -> None:
    with pytest.raises(ValidationError, match="exception"):
        WorkflowFailedEvent(step_name="parse", exception="not an exception")


def test_workflow_timed_out_event_carries_timeout_and_active_steps() -> None:
    ev = WorkflowTimedOutEvent(timeout=1.5, active_steps=["slow", "slower"])
    assert ev.timeout == 1.5
    assert ev.active_steps == ["slow", "slower"]


def test_workflow_timed_out_event_validates_its_fields() -> None:
    with pytest.raises(ValidationError, match="active_steps"):
        WorkflowTimedOutEvent(timeout=1.0)
    with pytest.raises(ValidationError, match="timeout"):
        WorkflowTimedOutEvent(timeout="soon", active_steps=[])


def test_workflow_cancelled_event_needs_no_fields() -> None:
    ev = WorkflowCancelledEvent()
    assert ev.result is None
    assert list(ev.keys()) == ["result"]
