"""ChatMemory: whole turns within the budget, tool calls kept with their results, saving."""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from typing import Any

import pytest
from llm_wire import BASE_URL

from agentflow import Context, Workflow, step
from agentflow.context.state_store import DictState
from agentflow.events import StartEvent, StopEvent
from agents.llm import ChatMessage, ScriptedLLM, ToolCallPart
from agents.llm.openai.client import OpenAI
from agents.llm.openai.tokens import count_message, count_messages, use_bundled_tiktoken_cache
from agents.memory import ChatMemory

MODEL = "gpt-4o"
GPT = OpenAI(MODEL, api_key="k", base_url=BASE_URL)
"""The memory counts with its LLM: this one with tiktoken, by OpenAI's rules."""


@pytest.fixture(autouse=True)
def offline_encodings() -> None:
    use_bundled_tiktoken_cache()


def conversation() -> list[ChatMessage]:
    return [
        ChatMessage.system("You are terse."),
        ChatMessage.user("What is the weather in Oslo and Bergen?"),
        ChatMessage.assistant(
            None,
            [
                ToolCallPart.from_raw("c1", "weather", '{"city": "Oslo"}'),
                ToolCallPart.from_raw("c2", "weather", '{"city": "Bergen"}'),
            ],
        ),
        ChatMessage.tool("Rain, 4 degrees, wind from the west at 10 m/s.", tool_call_id="c1"),
        ChatMessage.tool("Rain, 6 degrees, wind from the south at 3 m/s.", tool_call_id="c2"),
        ChatMessage.assistant("Rain in both."),
        ChatMessage.user("And tomorrow?"),
        ChatMessage.assistant("Sun."),
    ]


def test_everything_fits() -> None:
    messages = conversation()
    memory = ChatMemory(token_limit=count_messages(messages, MODEL), llm=GPT)
    memory.put_messages(messages)
    assert memory.get() == messages


def test_drops_whole_turns_never_a_tool_call_without_its_result() -> None:
    messages = conversation()
    last_turn = messages[6:]
    # Room for the system message and the last turn, and for all but the first message of
    # the older turn: the older turn must go whole.
    limit = count_messages([messages[0], *last_turn], MODEL) + sum(
        count_message(message, MODEL) for message in messages[2:6]
    )
    memory = ChatMemory(token_limit=limit, llm=GPT)
    memory.put_messages(messages)

    window = memory.get()

    assert window == [messages[0], *last_turn]
    assert memory.get_all() == messages
    one_more = ChatMemory(token_limit=limit + count_message(messages[1], MODEL), llm=GPT)
    one_more.put_messages(messages)
    assert one_more.get() == messages


def test_reserved_tokens_leave_room() -> None:
    messages = conversation()
    memory = ChatMemory(token_limit=count_messages(messages, MODEL), llm=GPT)
    memory.put_messages(messages)
    assert memory.get(reserve_tokens=1) == [messages[0], *messages[6:]]


def test_newest_turn_is_kept_even_over_budget() -> None:
    memory = ChatMemory(token_limit=5, llm=GPT)
    memory.put_messages([ChatMessage.system("s"), ChatMessage.user("a long question " * 20)])
    assert [message.role for message in memory.get()] == ["system", "user"]


def test_limit_and_model_from_the_llm() -> None:
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL)
    memory = ChatMemory(llm=llm)
    assert memory.model == "gpt-4o-mini"
    assert memory.token_limit == 96_000
    with pytest.raises(ValueError, match="needs a token_limit"):
        ChatMemory()


class HundredPerMessage(ScriptedLLM):
    """Counts 100 tokens a message and 7 for the prompt itself: no tokenizer counts so."""

    def count_prompt_tokens(self, messages: Sequence[ChatMessage], tools: Any = None) -> int:
        return 7 + 100 * len(messages)


def test_tokens_are_counted_by_the_llm_the_memory_is_for() -> None:
    short = [ChatMessage.user("a"), ChatMessage.assistant("b"), ChatMessage.user("c")]
    memory = ChatMemory(token_limit=207, llm=HundredPerMessage([]))
    memory.put_messages(short)

    # 7 for the prompt, 100 for "c": the turn of "a" and "b" (200 more) does not fit.
    assert memory.get() == short[2:]
    assert ChatMemory(token_limit=307, llm=HundredPerMessage([]), messages=short).get() == short
    # An llm given to `get` counts instead of the memory's own (the agents give theirs).
    assert memory.get(llm=GPT) == short


def test_a_memory_made_with_a_model_name_only_estimates_four_bytes_a_token() -> None:
    memory = ChatMemory(token_limit=9, model=MODEL)  # as callers made it before counting moved
    memory.put_messages([ChatMessage.user("x" * 20), ChatMessage.user("y" * 20)])

    assert memory.model == MODEL
    assert memory.get() == [ChatMessage.user("y" * 20)]  # 5 tokens each: two are over 9
    assert memory.get(llm=HundredPerMessage([])) == [ChatMessage.user("y" * 20)]


def test_a_copy_of_the_memory_shares_its_llm_and_counts_with_it() -> None:
    memory = ChatMemory(token_limit=150, llm=HundredPerMessage([]))
    memory.put_messages([ChatMessage.user("a"), ChatMessage.user("c")])

    copied = memory.model_copy(deep=True)  # as an agent copies its memory for each context
    copied.put(ChatMessage.user("d"))

    assert copied.get() == [ChatMessage.user("d")]  # counted 100 a message: one fits
    assert memory.get() == [ChatMessage.user("c")]
    # A real client (its connection pool holds locks) cannot be deep-copied: it is shared.
    with_client = ChatMemory(token_limit=4, llm=GPT, messages=short_turns()).model_copy(deep=True)
    assert with_client.get() == short_turns()[1:]


def test_a_pickled_memory_leaves_its_client_behind() -> None:
    # A context saved with the PickleSerializer pickles the agent's memory, which counted
    # with the agent's client; the client's locks cannot be pickled.
    memory = ChatMemory(token_limit=4, llm=GPT, messages=short_turns())
    assert memory.get() == short_turns()[1:]

    restored = pickle.loads(pickle.dumps(memory))

    assert restored.messages == short_turns()
    assert restored.get() == short_turns()  # estimated now: 1 token each
    assert restored.get(llm=GPT) == short_turns()[1:]


def short_turns() -> list[ChatMessage]:
    return [ChatMessage.user("a"), ChatMessage.user("b")]  # each 3 + 1 + 1 tokens for gpt-4o


class Chat(Workflow):
    @step
    async def answer(self, ctx: Context[DictState], ev: StartEvent) -> StopEvent:
        memory: ChatMemory = await ctx.store.get("memory")
        memory.put(ChatMessage.assistant("noted"))
        await ctx.store.set("memory", memory)
        return StopEvent(result=len(memory.messages))


async def test_survives_context_save_and_restore() -> None:
    workflow = Chat()
    ctx: Context[DictState] = Context(workflow)
    memory = ChatMemory(token_limit=200, llm=GPT)
    memory.put_messages(conversation())
    await ctx.store.set("memory", memory)
    assert await workflow.run(ctx=ctx) == 9

    saved = json.loads(json.dumps(ctx.to_dict()))
    restored: ChatMemory = await Context.from_dict(workflow, saved).store.get("memory")

    assert isinstance(restored, ChatMemory)
    assert restored.messages[-1] == ChatMessage.assistant("noted")
    assert restored.get_all() == (await ctx.store.get("memory")).get_all()
    assert restored.get() == (await ctx.store.get("memory")).get()


def test_messages_replaced_from_outside_are_recounted() -> None:
    memory = ChatMemory(token_limit=60, llm=GPT)
    memory.put_messages([ChatMessage.user("hi"), ChatMessage.user("ok")])
    assert len(memory.get()) == 2
    long = "otters " * 50
    # Same length, different messages: the old counts must not be reused.
    memory.messages = [ChatMessage.user(long), ChatMessage.user("ok")]
    assert memory.get() == [ChatMessage.user("ok")]
    memory.messages[1] = ChatMessage.user(long)
    memory.put(ChatMessage.user("last"))
    assert memory.get() == [ChatMessage.user("last")]


def test_a_user_message_between_a_call_and_its_result_does_not_split_them() -> None:
    call = ToolCallPart.from_raw("c1", "delete_file", '{"path": "a.txt"}')
    messages = [
        ChatMessage.user("Clean up."),
        ChatMessage.assistant(None, [call]),
        ChatMessage.user("Approved."),  # an approval step answering before the result
        ChatMessage.tool("deleted", tool_call_id="c1"),
        ChatMessage.assistant("Done."),
    ]
    memory = ChatMemory(token_limit=count_messages(messages[2:], MODEL), llm=GPT)
    memory.put_messages(messages)

    window = memory.get()

    # The whole turn (the newest is always kept), not [user "Approved.", tool c1, ...],
    # which would send a result without its call.
    assert window == messages


def test_a_call_that_never_got_its_result_does_not_stop_trimming_for_good() -> None:
    dangling = ToolCallPart.from_raw("lost", "search", "{}")
    old = [ChatMessage.user("q1 " * 50), ChatMessage.assistant(None, [dangling])]
    old.append(ChatMessage.assistant("Sorry, the search failed."))
    newest = [ChatMessage.user("q2"), ChatMessage.assistant("a2")]
    memory = ChatMemory(token_limit=count_messages(newest, MODEL), llm=GPT)
    memory.put_messages([*old, *newest])

    assert memory.get() == newest


def test_feedback_never_starts_a_turn() -> None:
    question = ChatMessage.user("Fill in the form for Oslo. " * 20)
    rejected = ChatMessage.assistant('{"name": 1}')
    reask = ChatMessage.user("That did not match the schema: name must be a string.")
    answer = ChatMessage.assistant('{"name": "Oslo"}')
    memory = ChatMemory(token_limit=count_messages([reask, answer], MODEL), llm=GPT)
    memory.put_messages([question, rejected])
    memory.put(reask, feedback=True)
    memory.put(answer)

    # Only the re-ask and the answer fit, but a window starting at the re-ask would leave
    # out the question it is about: the newest turn is the question's, kept whole.
    assert memory.get() == [question, rejected, reask, answer]
    memory.put(ChatMessage.user("Thanks."))
    assert memory.get() == [ChatMessage.user("Thanks.")]


def test_messages_put_as_feedback_continue_the_turn_of_the_reply_they_answer() -> None:
    observation = ChatMessage.user("Observation: rain " * 30)
    memory = ChatMemory(token_limit=count_messages([observation], MODEL), llm=GPT)
    memory.put_messages([ChatMessage.user("Weather?"), ChatMessage.assistant("Action: weather")])
    memory.put_messages([observation], feedback=True)

    assert memory.get()[0] == ChatMessage.user("Weather?")


def test_deleting_messages_keeps_the_marks_of_the_others() -> None:
    memory = ChatMemory(token_limit=5, llm=GPT)
    memory.put(ChatMessage.user("Q"))
    memory.put(ChatMessage.assistant("bad"))
    memory.put(ChatMessage.user("again"), feedback=True)
    memory.put(ChatMessage.assistant("also bad"))
    memory.put(ChatMessage.user("once more"), feedback=True)
    memory.put(ChatMessage.assistant("good"))

    memory.delete(1, 3)  # the first rejected answer and its re-ask

    assert [m.text for m in memory.messages] == ["Q", "also bad", "once more", "good"]
    assert memory.feedback == [2]
    assert memory.get() == memory.messages  # still one turn, begun by "Q"
    memory.reset()
    assert memory.feedback == []
