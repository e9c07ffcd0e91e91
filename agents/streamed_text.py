"""Events that carry one piece of a streamed text and read the text so far from a shared copy.

A workflow that streams an LLM's reply writes one event per chunk, and readers expect each
to give the text so far as well (LlamaIndex's `AgentStream.response`, a research
`ReportDelta.text`). Stored in every event, that text costs memory as the square of the
reply while the stream waits to be read (a 20 kB reply streamed token by token held 44 MB).
So the events of one reply share a `ReplyText`, each keeping how many of its pieces had
arrived when it was written, and the text so far is joined when it is read.

```python
text = ReplyText()
for chunk in chunks:
    ctx.write_event_to_stream(ReportDelta.added_to(text, chunk.delta))
```
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import PrivateAttr

from agentflow.events import Event


class ReplyText:
    """The text of one streamed reply, shared by all its events. Only ever appended to."""

    __slots__ = ("_pieces",)

    def __init__(self, text: str = "") -> None:
        self._pieces = [text] if text else []

    def append(self, piece: str) -> int:
        """Add `piece`; returns how many pieces the text now has."""
        self._pieces.append(piece)
        return len(self._pieces)

    def upto(self, count: int) -> str:
        """The text of the first `count` pieces."""
        return "".join(self._pieces[:count])

    def __str__(self) -> str:
        """The whole text so far."""
        return "".join(self._pieces)


class StreamedTextEvent(Event):
    """An event for one piece (`delta`) of a streamed text. A subclass names the field that
    gives the text so far (`text_so_far_field`) and defines it as a computed field returning
    `text_so_far()`: it is then in `model_dump()` but not in `to_dict()` or a saved context,
    where an event restored from one gives its `delta` as the text so far."""

    text_so_far_field: ClassVar[str]
    """The name under which the text so far is read, and accepted by the constructor."""

    delta: str
    """The text this chunk added."""
    _reply: ReplyText | None = PrivateAttr(default=None)
    _count: int = PrivateAttr(default=0)

    def model_post_init(self, context: Any, /) -> None:
        """Take the text so far given to the constructor (or found in a dump being loaded)
        as this event's own."""
        extra = self.__pydantic_extra__
        if extra and self.text_so_far_field in extra:
            self._reply = ReplyText(str(extra.pop(self.text_so_far_field)))
            self._count = 1

    @classmethod
    def added_to(cls, reply: ReplyText, delta: str, **fields: Any) -> Self:
        """The event for `delta`, appended to `reply` now: its text so far is `reply` up to
        and including `delta`. `fields` are the subclass's other fields."""
        event = cls(delta=delta, **fields)
        event._count = reply.append(delta)
        event._reply = reply
        return event

    def text_so_far(self) -> str:
        """The reply's text up to and including this event's `delta`."""
        if self._reply is None:
            return self.delta
        return self._reply.upto(self._count)
