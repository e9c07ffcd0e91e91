"""Programs written against LlamaIndex Workflows' retry policies (`from workflows...`), of the
shape of compat_programs.py: each defines `async def main()`, whose return value is the
program's outcome. tests/agentflow/test_retry_policy_compat.py runs each on agentflow (the
import renamed) and on llama-index-workflows 2.26.1, and compares the two outcomes.
"""

from __future__ import annotations

PARTS_CALLED_THE_REFERENCE_WAY = """
from datetime import timedelta
from workflows.retry_policy import (
    retry_all, retry_always, retry_any, retry_if_exception, retry_if_exception_cause_type,
    retry_if_exception_message, retry_if_exception_type, retry_if_not_exception_message,
    retry_if_not_exception_type, retry_never, retry_unless_exception_type,
    stop_after_attempt, stop_after_delay, stop_all, stop_any, stop_before_delay, stop_never,
    wait_chain, wait_combine, wait_exponential, wait_exponential_jitter, wait_fixed,
    wait_incrementing, wait_none,
)

def caused(error, cause):
    try:
        raise error from cause
    except Exception as raised:
        return raised

def errors_of(*calls):
    names = []
    for call in calls:
        try:
            call()
            names.append(None)
        except Exception as error:
            names.append(type(error).__name__)
    return names

async def main():
    rate = RuntimeError("rate limited")
    other = KeyError("other")
    conditions = {
        "type": retry_if_exception_type((ValueError, RuntimeError)),
        "not_type": retry_if_not_exception_type(ValueError),
        "unless_type": retry_unless_exception_type(RuntimeError),
        "message": retry_if_exception_message(message="rate limited"),
        "match_inside": retry_if_exception_message(match="limited"),
        "not_message": retry_if_not_exception_message(match="rate"),
        "cause": retry_if_exception_cause_type(OSError),
        "predicate": retry_if_exception(lambda error: "rate" in str(error)),
        "or": retry_if_exception_type(KeyError) | retry_if_exception_message(match="rate"),
        "and": retry_if_exception_type(RuntimeError) & retry_if_exception_message(match="x"),
        "any": retry_any(retry_never(), retry_if_exception_type(KeyError)),
        "all": retry_all(retry_always(), retry_if_exception_type(KeyError)),
        "always": retry_always(),
        "never": retry_never(),
        "lambda_or": (lambda error: False) | retry_always(),
    }
    samples = [rate, other, ValueError("v"), caused(ValueError("x"), OSError("disk"))]
    decided = {name: [c(error) for error in samples] for name, c in conditions.items()}
    waits = {
        "fixed": [wait_fixed(2)(n) for n in range(3)],
        "fixed_timedelta": wait_fixed(timedelta(milliseconds=1500))(0),
        "none": wait_none()(4),
        "exponential": [wait_exponential(multiplier=0.5, max=6)(n) for n in range(6)],
        "exponential_defaults": [wait_exponential()(n) for n in (0, 5, 6, 9)],
        "exponential_min": wait_exponential(multiplier=0.1, min=1)(0),
        "exponential_positional": [wait_exponential(1, 3, 10)(n) for n in range(4)],
        "jitter_positional": wait_exponential_jitter(1, 3, 10, 0)(2),
        "incrementing": [wait_incrementing(start=1, increment=2, max=6)(n) for n in range(5)],
        "incrementing_defaults": wait_incrementing()(2),
        "chain": [wait_chain(wait_fixed(1), wait_fixed(2), wait_fixed(5))(n) for n in range(5)],
        "plus": (wait_fixed(1) + wait_fixed(2) + wait_exponential())(2),
        "sum": sum([wait_fixed(1), wait_fixed(2), wait_fixed(3)])(0),
        "combine": wait_combine(wait_fixed(1), wait_incrementing(start=0, increment=1))(3),
    }
    stops = {
        "after_attempt": [stop_after_attempt(3)(n, 0.0) for n in (1, 2, 3, 4)],
        "after_delay": [stop_after_delay(5)(1, t) for t in (4.9, 5.0)],
        "after_delay_timedelta": stop_after_delay(timedelta(seconds=5))(1, 5.0),
        "before_delay": [
            stop_before_delay(5)(1, t, upcoming_sleep=0.5) for t in (4.4, 4.5, 4.6)
        ],
        "before_delay_no_sleep": stop_before_delay(5)(1, 4.9),
        "or": [
            (stop_after_attempt(3) | stop_after_delay(5))(n, t) for n, t in ((1, 1), (3, 1), (1, 6))
        ],
        "and": [
            (stop_after_attempt(3) & stop_after_delay(5))(n, t) for n, t in ((3, 1), (3, 6))
        ],
        "any": stop_any(stop_never(), stop_after_attempt(2))(2, 0.0),
        "all": stop_all(stop_never(), stop_after_attempt(2))(2, 0.0),
        "never": stop_never()(10**6, 1e9, upcoming_sleep=1e9),
    }
    errors = errors_of(
        lambda: retry_if_exception_message(),
        lambda: retry_if_exception_message(message="a", match="b"),
        lambda: wait_chain(),
    )
    return decided, waits, stops, errors
"""

POLICIES_DECIDE = """
from workflows.retry_policy import (
    RetryPolicy, retry_if_exception_type, retry_policy, stop_after_attempt,
    stop_before_delay, wait_chain, wait_exponential, wait_fixed,
)

async def main():
    error = ConnectionError("down")
    default = retry_policy()
    composed = retry_policy(
        retry=retry_if_exception_type(ConnectionError),
        wait=wait_exponential(multiplier=1, exp_base=3, max=20),
        stop=stop_after_attempt(5) | stop_before_delay(30),
    )
    positional = retry_policy(None, wait_chain(wait_fixed(1), wait_fixed(4)), stop_after_attempt(4))
    return {
        "protocol": isinstance(default, RetryPolicy),
        "default": [default.next(0.0, n, error) for n in (1, 2, 3)],
        "default_other_error": default.next(0.0, 1, KeyError("k")),
        "composed": [composed.next(0.0, n, error) for n in range(1, 6)],
        "composed_late": composed.next(25.0, 3, error),
        "composed_not_retried": composed.next(0.0, 1, ValueError("v")),
        "zero_attempts": composed.next(0.0, 0, error, seed=3),
        "positional": [positional.next(0.0, n, error) for n in (1, 2, 3, 4)],
    }
"""

SEEDED_JITTER = """
from workflows.retry_policy import (
    retry_policy, stop_after_attempt, wait_exponential_jitter, wait_fixed,
    wait_full_jitter, wait_random, wait_random_exponential,
)

async def main():
    error = TimeoutError("slow")
    jittery = retry_policy(wait=wait_exponential_jitter(initial=1, max=60, jitter=3),
                           stop=stop_after_attempt(6))
    delays = {}
    for seed in (0, 7, 2**31 + 5):
        delays[seed] = [
            wait_random(min=1, max=9)(0, seed=seed),
            wait_exponential_jitter()(2, seed=seed),
            wait_exponential_jitter(initial=2, exp_base=3, max=10, jitter=4)(1, seed=seed),
            wait_random_exponential(multiplier=0.5, max=30, min=0.25)(4, seed=seed),
            wait_full_jitter(multiplier=2)(3, seed=seed),
            (wait_fixed(1) + wait_random(0, 1) + wait_random(0, 2))(0, seed=seed),
            [jittery.next(0.0, n, error, seed=seed) for n in range(1, 7)],
        ]
    repeated = wait_random(0, 100)(0, seed=11) == wait_random(0, 100)(0, seed=11)
    unseeded = [0 <= wait_random(0, 1)(0) <= 1 for _ in range(5)]
    return delays, repeated, unseeded
"""

SHORTHANDS_AND_DEPRECATIONS = """
import warnings
from workflows.retry_policy import (
    ConstantDelayRetryPolicy, ExponentialBackoffRetryPolicy, retry_policy, wait_fixed,
    stop_after_attempt,
)

async def main():
    error = RuntimeError("boom")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        constant_positional = ConstantDelayRetryPolicy(5, 3)
        constant_default = ConstantDelayRetryPolicy()
        backoff_positional = ExponentialBackoffRetryPolicy(4, 1.0, 3.0, 20.0, False)
        backoff_default = ExponentialBackoffRetryPolicy(jitter=False)
        backoff_jitter = ExponentialBackoffRetryPolicy(maximum_attempts=4)
        backoff_long = ExponentialBackoffRetryPolicy(maximum_attempts=10, jitter=False)
        silent = [retry_policy(), retry_policy(wait=wait_fixed(1), stop=stop_after_attempt(2))]
    warned = [
        (w.category.__name__, str(w.message).split(",")[0],
         w.filename == main.__code__.co_filename)
        for w in caught
    ]
    return {
        "warned": warned,
        "constant_positional": [constant_positional.next(0.0, n, error) for n in range(1, 7)],
        "constant_default": [constant_default.next(0.0, n, error) for n in (1, 2, 3)],
        "backoff_positional": [backoff_positional.next(0.0, n, error) for n in range(1, 5)],
        "backoff_default": [backoff_default.next(0.0, n, error) for n in range(1, 6)],
        "backoff_capped": backoff_long.next(0.0, 8, error),
        "backoff_jitter_seeded": [backoff_jitter.next(0.0, n, error, seed=5) for n in range(1, 5)],
        "backoff_jitter_bounds": all(
            0.0 <= backoff_jitter.next(0.0, 3, error) <= 4.0 for _ in range(20)
        ),
        "silent": len(silent),
    }
"""

RETRY_INFO_IN_STEPS = """
import asyncio
import dataclasses
from datetime import datetime, timezone
from workflows import Context, Workflow, step
from workflows.errors import ContextStateError
from workflows.events import Event, StartEvent, StopEvent
from workflows.retry_policy import RetryInfo, retry_policy, stop_after_attempt, wait_fixed

seen = []
entered = release = None

def describe(info):
    return {
        "type": type(info).__name__,
        "retry_number": info.retry_number,
        # exactly 0.0 on a first attempt; a retry's reads a clock, so only its sign is known
        "elapsed": info.elapsed_seconds == 0.0 if info.retry_number == 0
        else info.elapsed_seconds >= 0.0,
        "last_exception": repr(info.last_exception),
        "failed_at_utc": (
            None if info.last_failed_at is None
            else isinstance(info.last_failed_at, datetime)
            and info.last_failed_at.utcoffset() == timezone.utc.utcoffset(None)
        ),
    }

class Flaky(Event):
    pass

class Retried(Workflow):
    @step(retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(4)))
    async def flaky(self, ctx: Context, ev: StartEvent) -> Flaky:
        info = ctx.retry_info()
        seen.append(("flaky", describe(info)))
        if info.retry_number < 2:
            raise ConnectionError(f"down {info.retry_number}")
        return Flaky()

    @step(retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(2)))
    def sync_step(self, ctx: Context, ev: Flaky) -> StopEvent:
        info = ctx.retry_info()
        seen.append(("sync", describe(info)))
        if info.retry_number == 0:
            raise ValueError("once")
        return StopEvent(result="done")

class Child(Workflow):
    @step
    async def inner(self, ctx: Context, ev: StartEvent) -> StopEvent:
        seen.append(("child", describe(ctx.retry_info())))
        return StopEvent(result="child")

class Parent(Workflow):
    @step(retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(2)))
    async def outer(self, ctx: Context, ev: StartEvent) -> StopEvent:
        if ctx.retry_info().retry_number == 0:
            raise ConnectionError("first")
        return StopEvent(result=await Child().run())

class Plain(Workflow):
    @step
    async def only(self, ctx: Context, ev: StartEvent) -> StopEvent:
        info = ctx.retry_info()
        seen.append(("plain", describe(info)))
        entered.set()
        await release.wait()
        return StopEvent(result=info == RetryInfo(0, 0.0, None, None))

def refused(call):
    try:
        call()
    except ContextStateError:
        return "ContextStateError"
    except Exception as error:
        return type(error).__name__
    return "allowed"

async def main():
    global entered, release
    entered, release = asyncio.Event(), asyncio.Event()
    results = [await Retried().run(), await Parent().run()]
    plain = Plain()
    before = refused(lambda: Context(plain).retry_info())
    handler = plain.run()
    await entered.wait()
    during = refused(lambda: handler.ctx.retry_info())
    release.set()
    results.append(await handler)
    fields = [field.name for field in dataclasses.fields(RetryInfo)]
    return results, seen, before, during, fields
"""

PROGRAMS: dict[str, str] = {
    "conditions, waits and stops called the reference's way": PARTS_CALLED_THE_REFERENCE_WAY,
    "policies decide with the reference's defaults": POLICIES_DECIDE,
    "seeded jitter": SEEDED_JITTER,
    "shorthands and their deprecation warnings": SHORTHANDS_AND_DEPRECATIONS,
    "ctx.retry_info() in and out of steps": RETRY_INFO_IN_STEPS,
}
"""Each program by what it checks."""
