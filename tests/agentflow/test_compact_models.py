"""JsonSerializer's compact form of a model (format version 2): no field that holds its
default, no class where the field declares it, and every value loads back exactly; what
format 1 wrote loads too."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator

from agentflow.context.serializers import JsonSerializer
from agentflow.events import StartEvent


class Address(BaseModel):
    city: str
    zip_code: str = ""
    lines: list[str] = Field(default_factory=list)


class Office(Address):
    floor: int = 0


class Person(BaseModel):
    name: str
    home: Address | None = None
    addresses: list[Address] = Field(default_factory=list)
    by_label: dict[str, Address] = Field(default_factory=dict)
    anything: Any = 0
    scores: list[Any] = [1, 2]
    usage: Address = Field(default_factory=lambda: Address(city="nowhere"))


class FillsItsZip(BaseModel):
    """A `before` validator that fills a field the input lacks: its defaults must be kept."""

    city: str
    zip_code: str = ""

    @model_validator(mode="before")
    @classmethod
    def guess_zip(cls, data: Any) -> Any:
        if isinstance(data, dict) and "zip_code" not in data:
            return {**data, "zip_code": f"{data.get('city', '')}-0000"}
        return data


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: str = "open"


class Form(BaseModel):
    """Fields named as format 1's keys."""

    fields: dict[str, int] = Field(default_factory=dict)
    extra: dict[str, int] = Field(default_factory=dict)


def saved(value: Any) -> Any:
    return json.loads(JsonSerializer().serialize(value))


def round_trip(value: Any) -> Any:
    serializer = JsonSerializer()
    restored = serializer.deserialize(serializer.serialize(value))
    assert restored == value
    assert type(restored) is type(value)
    return restored


def test_fields_holding_their_default_are_left_out() -> None:
    assert saved(Address(city="Oslo")) == {"__model__": f"{__name__}:Address", "city": "Oslo"}
    assert saved(Address(city="Oslo", zip_code="0150", lines=["x"])) == {
        "__model__": f"{__name__}:Address",
        "city": "Oslo",
        "zip_code": "0150",
        "lines": ["x"],
    }
    round_trip(Address(city="Oslo"))
    round_trip(Address(city="Oslo", zip_code="0150", lines=["x"]))


def test_a_model_in_a_field_that_declares_its_class_is_written_without_it() -> None:
    person = Person(
        name="Ada",
        home=Address(city="London"),
        addresses=[Address(city="Paris"), Address(city="Rome", zip_code="00100")],
        by_label={"work": Address(city="Bern")},
    )
    written = saved(person)
    assert written["home"] == {"city": "London"}
    assert written["addresses"] == [{"city": "Paris"}, {"city": "Rome", "zip_code": "00100"}]
    assert written["by_label"] == {"work": {"city": "Bern"}}
    restored = round_trip(person)
    assert type(restored.home) is Address
    assert all(type(address) is Address for address in restored.addresses)


def test_a_subclass_where_the_field_declares_its_base_keeps_its_class() -> None:
    person = Person(name="Bo", home=Office(city="Oslo", floor=3), addresses=[Office(city="Rome")])
    written = saved(person)
    assert written["home"]["__model__"] == f"{__name__}:Office"
    assert written["addresses"][0]["__model__"] == f"{__name__}:Office"
    restored = round_trip(person)
    assert type(restored.home) is Office
    assert type(restored.addresses[0]) is Office


def test_only_an_exactly_equal_default_is_left_out() -> None:
    # False == 0 and [True, 2] == [1, 2] in Python; each is written, and loads as it was.
    person = Person(name="Cy", anything=False, scores=[True, 2])
    written = saved(person)
    assert written["anything"] is False
    assert written["scores"] == [True, 2]
    restored = round_trip(person)
    assert restored.anything is False
    assert restored.scores[0] is True
    # A default built by a factory that is not a class is written: it may differ each time.
    assert written["usage"] == {"city": "nowhere"}


def test_defaults_changed_and_unchanged_nested_round_trip() -> None:
    round_trip(Person(name="Di"))
    round_trip(
        Person(
            name="Di",
            home=Address(city="Lima", lines=["a", "b"]),
            anything={"k": (1, Address(city="Quito"))},
            scores=[],
            usage=Address(city="Cusco", zip_code="08000"),
        )
    )


def test_a_model_whose_validator_reads_its_input_keeps_its_defaults() -> None:
    value = FillsItsZip.model_validate({"city": "Oslo", "zip_code": ""})
    assert saved(value)["zip_code"] == ""
    round_trip(value)


def test_extra_fields_are_written_beside_the_fields_and_names_format_1_used_still_work() -> None:
    round_trip(Open(note="n", nested=Address(city="Lagos")))
    assert saved(Open(note="n")) == {"__model__": f"{__name__}:Open", "note": "n"}
    # An extra named like the serializer's own markers, and fields named like format 1's
    # keys, are written in format 1's form, which says which is which.
    reserved = Open(__tuple__=[1], __model__="x")
    assert set(saved(reserved)) == {"__model__", "fields", "extra"}
    round_trip(reserved)
    form = Form(fields={"a": 1}, extra={"b": 2})
    assert set(saved(form)) == {"__model__", "fields", "extra"}
    round_trip(form)
    round_trip(Form(fields={"a": 1}))
    round_trip(StartEvent(fields={"a": 1}, extra={"b": 2}))


FORMAT_1 = {
    "__model__": f"{__name__}:Person",
    "fields": {
        "name": "Ada",
        "home": {
            "__model__": f"{__name__}:Address",
            "fields": {"city": "London", "zip_code": "", "lines": []},
            "extra": {},
        },
        "addresses": [],
        "by_label": {},
        "anything": 0,
        "scores": [1, 2],
        "usage": {
            "__model__": f"{__name__}:Address",
            "fields": {"city": "nowhere", "zip_code": "", "lines": []},
            "extra": {},
        },
    },
    "extra": {},
}


def test_what_format_1_wrote_loads() -> None:
    restored = JsonSerializer().deserialize(json.dumps(FORMAT_1))
    assert restored == Person(name="Ada", home=Address(city="London"))
    opened = {
        "__model__": f"{__name__}:Open",
        "fields": {"kind": "open"},
        "extra": {
            "note": {"__model__": f"{__name__}:Address", "fields": {"city": "X"}, "extra": {}}
        },
    }
    assert JsonSerializer().deserialize(json.dumps(opened)) == Open(note=Address(city="X"))


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ({"__model__": f"{__name__}:Address"}, "city"),
        (
            {"__model__": f"{__name__}:Person", "name": "Ada", "home": {"zip_code": "1"}},
            "value.home: the saved Address is not valid: city",
        ),
    ],
)
def test_a_compact_model_missing_a_required_field_names_it(
    written: dict[str, Any], problem: str
) -> None:
    from agentflow.errors import ContextSerdeError

    with pytest.raises(ContextSerdeError, match=problem):
        JsonSerializer().deserialize(json.dumps(written))


class Inner(BaseModel):
    a: int = 0


class TenfoldsDicts(BaseModel):
    """A field `before` validator that reads a dict as a legacy shape: it must see the model."""

    inner: Inner
    inners: list[Inner] = Field(default_factory=list)
    by_key: dict[str, Inner] = Field(default_factory=dict)

    @field_validator("inner", "inners", "by_key", mode="before")
    @classmethod
    def legacy_shape(cls, value: Any) -> Any:
        if isinstance(value, dict) and "a" in value:
            return Inner(a=value["a"] * 10)
        if isinstance(value, list):
            return [Inner(a=-1) if isinstance(item, dict) else item for item in value]
        if isinstance(value, dict):
            return {
                key: Inner(a=-1) if isinstance(item, dict) else item for key, item in value.items()
            }
        return value


def only_instances(value: Any) -> Inner:
    if not isinstance(value, Inner):
        raise ValueError("give an Inner")
    return value


class TakesOnlyInstances(BaseModel):
    inner: Annotated[Inner, PlainValidator(only_instances)]


class WrapsLegacyInput(BaseModel):
    inner: Inner

    @model_validator(mode="wrap")
    @classmethod
    def legacy_shape(cls, data: Any, handler: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("inner"), dict):
            data = {**data, "inner": Inner(a=data["inner"].get("value", -1))}
        return handler(data)


@pytest.mark.parametrize(
    "value",
    [
        TenfoldsDicts(inner=Inner(a=2), inners=[Inner(a=3)], by_key={"k": Inner(a=4)}),
        TakesOnlyInstances(inner=Inner(a=1)),
        WrapsLegacyInput(inner=Inner(a=4)),
    ],
    ids=["field before", "plain", "model wrap"],
)
def test_validators_of_the_holder_see_nested_models_not_dicts(value: BaseModel) -> None:
    round_trip(value)


class TotalsUnlessGiven(BaseModel):
    a: int = 1
    total: int = 0

    @model_validator(mode="after")
    def fill_total(self) -> TotalsUnlessGiven:
        if "total" not in self.model_fields_set:
            self.total = self.a * 100
        return self


def test_a_default_set_explicitly_is_written_and_the_fields_set_kept() -> None:
    value = TotalsUnlessGiven(a=2, total=0)
    assert saved(value)["total"] == 0
    restored = round_trip(value)
    assert restored.total == 0
    assert restored.model_fields_set == value.model_fields_set
    assert round_trip(TotalsUnlessGiven(a=2)).total == 200


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            {"__model__": f"{__name__}:Inner", "fields": {"a": 1}},
            "state: the saved value has no 'extra'",
        ),
        (
            {"__model__": f"{__name__}:Inner", "fields": 5, "extra": {}},
            "state: its 'fields' should be a dict",
        ),
        (
            {"__model__": "agentflow.events:StartEvent", "extra": {}},
            "state: the saved value has no 'fields'",
        ),
        (
            {
                "__model__": f"{__name__}:Person",
                "name": "A",
                "home": {"__model__": f"{__name__}:Address", "fields": {"city": "x"}},
            },
            "state.home: the saved value has no 'extra'",
        ),
    ],
)
def test_a_malformed_format_1_model_is_refused(written: dict[str, Any], problem: str) -> None:
    from agentflow.errors import ContextSerdeError

    with pytest.raises(ContextSerdeError) as raised:
        JsonSerializer().deserialize_at(json.dumps(written), "state")
    assert problem in str(raised.value)


def test_an_extra_named_like_format_1_s_keys_round_trips() -> None:
    round_trip(Open(fields=5))
    round_trip(Open(extra={"a": 1}))
    round_trip(StartEvent(fields="x"))


class CountsBuilds(Inner):
    builds: ClassVar[int] = 0

    def __init__(self, **data: Any) -> None:
        type(self).builds += 1
        super().__init__(**data)


class HoldsCounted(BaseModel):
    inner: Inner = Field(default_factory=CountsBuilds)


def test_a_default_factory_runs_once_per_field_not_per_save() -> None:
    value = HoldsCounted(inner=Inner(a=1))
    CountsBuilds.builds = 0
    for _ in range(3):
        saved(value)
    assert CountsBuilds.builds <= 1


class BuildsFail(BaseModel):
    needed: int


class HoldsFailing(BaseModel):
    inner: BuildsFail = Field(default_factory=BuildsFail)  # type: ignore[arg-type]


def test_a_default_factory_that_raises_names_the_key_path() -> None:
    from agentflow.errors import ContextSerdeError

    # As a model built without running its factory (`model_construct`) may be.
    value = HoldsFailing.model_construct(_fields_set=set(), inner=BuildsFail(needed=1))
    with pytest.raises(ContextSerdeError, match=r"state\.inner"):
        JsonSerializer().serialize(value, "state")


class Measured(BaseModel):
    value: float = 0.0
    unknown: float = float("nan")


def test_negative_zero_and_nan_round_trip() -> None:
    serializer = JsonSerializer()
    restored = serializer.deserialize(serializer.serialize(Measured(value=-0.0)))
    assert math.copysign(1, restored.value) == -1
    restored = serializer.deserialize(serializer.serialize(Measured(value=float("nan"))))
    assert math.isnan(restored.value)
    assert math.isnan(restored.unknown)
