"""Retry policies for `@step(retry_policy=...)`, as LlamaIndex Workflows' `retry_policy`.

`retry_policy(retry=..., wait=..., stop=...)` composes a condition (which failures to
retry), a wait (how long to sleep first) and a stop (when to give up); `|`, `&`, `+` and
`sum()` combine the parts. Every part answers both call protocols: the reference's (a
condition takes the exception, a wait the retry number and a seed, a stop the attempts and
the elapsed time) and tenacity's (a `RetryCallState`), so the parts also drive tenacity's
own `Retrying`, and tenacity's own parts fit into a policy.

    policies.py     RetryPolicy, RetryInfo, retry_policy() and the deprecated shorthands
    conditions.py   retry_if_exception_type, retry_if_exception_message, ... retry_any/all
    waits.py        wait_fixed, wait_exponential, wait_random, ... wait_chain/combine
    stops.py        stop_after_attempt, stop_after_delay, stop_before_delay, ... stop_any/all
    call_state.py   the bridge between the two protocols
"""

from agentflow.retry_policy.conditions import (
    RetryCondition,
    retry_all,
    retry_always,
    retry_any,
    retry_if_exception,
    retry_if_exception_cause_type,
    retry_if_exception_message,
    retry_if_exception_type,
    retry_if_not_exception_message,
    retry_if_not_exception_type,
    retry_never,
    retry_unless_exception_type,
)
from agentflow.retry_policy.policies import (
    ComposedRetryPolicy,
    ConstantDelayRetryPolicy,
    ExponentialBackoffRetryPolicy,
    RetryInfo,
    RetryPolicy,
    retry_policy,
)
from agentflow.retry_policy.stops import (
    StopCondition,
    stop_after_attempt,
    stop_after_delay,
    stop_all,
    stop_any,
    stop_before_delay,
    stop_never,
)
from agentflow.retry_policy.waits import (
    WaitStrategy,
    time_unit_type,
    wait_chain,
    wait_combine,
    wait_exponential,
    wait_exponential_jitter,
    wait_fixed,
    wait_full_jitter,
    wait_incrementing,
    wait_none,
    wait_random,
    wait_random_exponential,
)

__all__ = [
    "ComposedRetryPolicy",
    "ConstantDelayRetryPolicy",
    "ExponentialBackoffRetryPolicy",
    "RetryCondition",
    "RetryInfo",
    "RetryPolicy",
    "StopCondition",
    "WaitStrategy",
    "retry_all",
    "retry_always",
    "retry_any",
    "retry_if_exception",
    "retry_if_exception_cause_type",
    "retry_if_exception_message",
    "retry_if_exception_type",
    "retry_if_not_exception_message",
    "retry_if_not_exception_type",
    "retry_never",
    "retry_policy",
    "retry_unless_exception_type",
    "stop_after_attempt",
    "stop_after_delay",
    "stop_all",
    "stop_any",
    "stop_before_delay",
    "stop_never",
    "time_unit_type",
    "wait_chain",
    "wait_combine",
    "wait_exponential",
    "wait_exponential_jitter",
    "wait_fixed",
    "wait_full_jitter",
    "wait_incrementing",
    "wait_none",
    "wait_random",
    "wait_random_exponential",
]
