"""`calculator`: arithmetic from an LLM, evaluated on the syntax tree, never by `eval`.

Accepted: numbers, `+ - * / // % **`, unary `+ -`, parentheses, the constants `pi`, `e`,
`tau` and the functions `abs round min max sqrt exp log log10 log2 sin cos tan asin acos
atan floor ceil`. Anything else (names, attributes, strings, comprehensions, ...) is refused
with the element named. Limits keep a hostile expression from exhausting the machine:
the expression's length, its nesting depth, exponents, and the size of integer results.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from tools.errors import CalculatorError
from tools.function_tool import FunctionTool

MAX_EXPRESSION_LENGTH = 1_000
"""Longest expression accepted, in characters."""
MAX_DEPTH = 200
"""Deepest nesting of operators, calls and parentheses accepted (evaluation recurses)."""
MAX_EXPONENT = 10_000
"""Largest absolute exponent for `**`."""
MAX_INTEGER_BITS = 10_000
"""Largest integer result (or intermediate) in bits, about 3,000 decimal digits."""

Number = int | float

_ROUND_DIGITS = 4_000  # more decimal digits than any allowed int or float has

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}
_MATH_FUNCTIONS = ("sqrt", "exp", "log", "log10", "log2", "sin", "cos", "tan", "asin", "acos")
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "atan": math.atan,
    "floor": math.floor,
    "ceil": math.ceil,
    **{name: getattr(math, name) for name in _MATH_FUNCTIONS},
}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression. Raises `CalculatorError` saying what in the
    expression is not allowed or cannot be computed."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise CalculatorError(
            f"the expression is {len(expression)} characters long; the limit is "
            f"{MAX_EXPRESSION_LENGTH}"
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise CalculatorError(
            f"{expression!r} is not an arithmetic expression: {error.msg}"
        ) from error
    except (RecursionError, MemoryError) as error:  # the parser's own limits
        raise CalculatorError(
            f"the expression is nested more deeply than {MAX_DEPTH} levels"
        ) from error
    _check_depth(tree.body)
    try:
        return _evaluate(tree.body)
    except CalculatorError:
        raise
    except ZeroDivisionError as error:
        raise CalculatorError(f"division by zero in {expression!r}") from error
    except (OverflowError, ValueError) as error:
        raise CalculatorError(f"cannot compute {expression!r}: {error}") from error
    except RecursionError as error:  # called with little stack left
        raise CalculatorError(f"{expression!r} is nested too deeply to compute") from error


def _check_depth(root: ast.expr) -> None:
    # Iterative, so a hostile expression cannot overflow the stack here; `_evaluate`
    # recurses and runs only on trees this accepted.
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CalculatorError(f"the expression is nested more deeply than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _evaluate(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculatorError(f"{node.value!r} is not a number")
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_evaluate(node.operand)))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(f"unknown name '{node.id}'; known constants: {', '.join(_CONSTANTS)}")
    if isinstance(node, ast.Call):
        return _call(node)
    raise CalculatorError(f"'{ast.unparse(node)}' is not allowed in arithmetic")


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        raise CalculatorError(
            f"'{ast.unparse(node.func)}' is not a known function; known: {', '.join(_FUNCTIONS)}"
        )
    if node.keywords:
        raise CalculatorError(f"{node.func.id}() takes no keyword arguments")
    arguments = [_evaluate(argument) for argument in node.args]
    if node.func.id == "round" and len(arguments) == 2 and isinstance(arguments[1], int):
        # round(x, -n) computes 10 ** n: a huge n would run for hours. Results within the
        # limits have at most ~3,000 digits, so a clamped n gives the same value.
        arguments[1] = max(-_ROUND_DIGITS, min(_ROUND_DIGITS, arguments[1]))
    try:
        return _checked(_FUNCTIONS[node.func.id](*arguments))
    except TypeError as error:
        raise CalculatorError(f"{node.func.id}(): {error}") from error


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise CalculatorError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base).bit_length() * exponent > MAX_INTEGER_BITS
    ):
        raise CalculatorError(f"{base} ** {exponent} would have more than {MAX_INTEGER_BITS} bits")


def _checked(value: Any) -> Number:
    if isinstance(value, complex):
        raise CalculatorError("the result is a complex number, which is not supported")
    if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
        raise CalculatorError(f"an integer result has more than {MAX_INTEGER_BITS} bits")
    if not isinstance(value, int | float):
        raise CalculatorError(f"the result {value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError(f"the result overflowed to {value}")
    return value


def calculate(expression: str) -> Number:
    """Evaluate an arithmetic expression and return its value.

    Args:
        expression: Arithmetic such as "(2 + 3) * 4 / 7" or "sqrt(2) ** 3"; supports
            + - * / // % **, parentheses, pi, e and common math functions.
    """
    return evaluate(expression)


calculator = FunctionTool.from_defaults(calculate, name="calculator", timeout=5.0)
"""The calculator as a tool (a 5 s timeout)."""
