"""tools.builtin.calculator: arithmetic on the syntax tree, refusals named."""

from __future__ import annotations

import math

import pytest

from tools.builtin.calculator import MAX_DEPTH, MAX_EXPRESSION_LENGTH, calculator, evaluate
from tools.errors import CalculatorError


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("-(3 - 5)", 2),
        ("+4", 4),
        ("sqrt(16) + abs(-2)", 6.0),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("round(2.567, 2)", 2.57),
        ("floor(2.7) + ceil(2.1)", 5),
        ("2 * pi", math.tau),
        ("log(e)", 1.0),
        ("1.5e3", 1500.0),
    ],
)
def test_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "'__import__' is not a known function"),
        ("__import__('os').system('ls')", "is not a known function"),
        ("x + 1", "unknown name 'x'"),
        ("(1).real", "'1 .real' is not allowed in arithmetic"),
        ("'a' * 3", "'a' is not a number"),
        ("True + 1", "True is not a number"),
        ("[1, 2]", "'[1, 2]' is not allowed"),
        ("1 if 2 else 3", "is not allowed"),
        ("2 << 3", "'2 << 3' is not allowed"),
        ("sqrt(x=4)", "sqrt() takes no keyword arguments"),
        ("1 / 0", "division by zero in '1 / 0'"),
        ("sqrt(-1)", "cannot compute 'sqrt(-1)'"),
        ("9 ** 9 ** 9", "exponent 387420489 is larger than"),
        ("7 ** 9999", "would have more than"),
        ("(-8) ** 0.5", "complex number"),
        ("1e308 * 10", "overflowed"),
        ("max()", "max():"),
        ("1 +", "is not an arithmetic expression"),
        ("1e309", "overflowed to inf"),
        ("-" * 500 + "1", "nested more deeply than"),
        ("+-" * 150 + "1", "nested more deeply than"),
        ("1" + " + 1" * 200, "nested more deeply than"),
    ],
)
def test_refusals_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    assert message in str(caught.value)


def test_overlong_expression_is_refused() -> None:
    with pytest.raises(CalculatorError, match="characters long"):
        evaluate("1+" * MAX_EXPRESSION_LENGTH + "1")


async def test_calculator_tool_returns_value_or_error_output() -> None:
    assert calculator.name == "calculator"
    assert "expression" in calculator.metadata.get_parameters_dict()["required"]
    assert (await calculator.acall_json('{"expression": "6 * 7"}')).content == "42"
    refused = await calculator.acall_json('{"expression": "open(\'/etc/passwd\')"}')
    assert refused.is_error
    assert refused.content.startswith("Error: tool 'calculator' raised CalculatorError: 'open'")


def test_nesting_up_to_the_depth_limit_is_computed() -> None:
    assert evaluate("-" * (MAX_DEPTH - 1) + "1") == (-1) ** (MAX_DEPTH - 1)


async def test_deeply_nested_expression_is_an_error_output_not_a_crash() -> None:
    output = await calculator.acall(expression="-" * 998 + "1")
    assert output.is_error
    assert "nested more deeply than" in output.content


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("round(5, -10 ** 2000)", 0),
        ("round(123456, -10 ** 9)", 0),
        ("round(7 ** 3000, 10 ** 9)", 7**3000),
        ("round(1.5, 10 ** 9)", 1.5),
        ("round(12345, -2)", 12300),
    ],
)
def test_round_with_huge_digit_counts_is_computed_at_once(expression: str, value: float) -> None:
    # round(x, -n) computes 10 ** n; unclamped, these would run for hours.
    assert evaluate(expression) == value


def test_a_long_flat_sum_is_within_the_depth_limit() -> None:
    # A sum is a left-deep tree: 150 terms are 150 levels.
    assert evaluate(" + ".join(["1"] * 150)) == 150
