"""Exceptions the kit the prebuilt workflows share raises."""

from __future__ import annotations


class RunNotStartedError(RuntimeError):
    """A step read its run's state before the run's first step made it: a step called on
    its own, or a context whose state was replaced from outside."""

    def __init__(self, state_type: str) -> None:
        self.state_type = state_type
        """The context state class whose `run` was missing."""
        super().__init__(
            f"{state_type}.run is empty: no run has started in this context; start one "
            "with the workflow's run() (its first step makes the run's state)"
        )
