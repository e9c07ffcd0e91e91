"""Prebuilt agents as subclassable agentflow workflows, and the events they stream.

| module | holds |
|---|---|
| `agents.agent.function_agent` | `FunctionAgent`: the tool-calling loop as steps |
| `agents.agent.tool_calls` | its base `ToolCalling`: the tool-call steps, approval, repeats |
| `agents.agent.turns` | its base `AgentTurns`: setup, finalize, the conversation, prompt |
| `agents.agent.react_agent` | `ReActAgent`: the same loop for models without function calling |
| `agents.agent.react_format` | the ReAct prompt and the parser of its replies |
| `agents.agent.agent_workflow` | `AgentWorkflow`: agents sharing a conversation, with handoffs |
| `agents.agent.conversation` | `ConversationWorkflow`: the inputs of `run(user_msg, ...)` |
| `agents.agent.handoff` | the `handoff` tool an `AgentWorkflow` gives its agents |
| `agents.agent.events` | the events on the stream, `AgentOutput` |
| `agents.agent.repeated_calls` | a call the run already answered gets that answer, not a rerun |
| `agents.agent.state_prompt` | the shared state in the user's message (`state_prompt`) |
| `agents.agent.run_state` | `AgentState`, the context's typed state; `AgentRunState` |
| `agents.agent.errors` | `AgentError` and its subclasses |
"""

from agents.agent.agent_workflow import AgentWorkflow
from agents.agent.conversation import ConversationWorkflow
from agents.agent.errors import (
    AgentError,
    AgentOptionError,
    EmptyReplyError,
    HandoffError,
    MaxIterationsError,
    ReActFormatLimitError,
    RepeatedToolCallError,
)
from agents.agent.events import (
    AgentFinish,
    AgentHandoff,
    AgentInput,
    AgentOutput,
    AgentReply,
    AgentStart,
    AgentStream,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
    ToolCallResult,
)
from agents.agent.function_agent import FunctionAgent
from agents.agent.react_agent import ReActAgent
from agents.agent.react_format import ReActFormatError
from agents.agent.repeated_calls import CallRecord, RecordedCall, RepeatLimitReached
from agents.agent.run_state import AgentRunState, AgentState, IterationLimitReached
from agents.streamed_text import ReplyText

__all__ = [
    "AgentError",
    "AgentFinish",
    "AgentHandoff",
    "AgentInput",
    "AgentOptionError",
    "AgentOutput",
    "AgentReply",
    "AgentRunState",
    "AgentStart",
    "AgentState",
    "AgentStream",
    "AgentWorkflow",
    "CallRecord",
    "ConversationWorkflow",
    "EmptyReplyError",
    "FunctionAgent",
    "HandoffError",
    "IterationLimitReached",
    "MaxIterationsError",
    "ReActAgent",
    "ReActFormatError",
    "ReActFormatLimitError",
    "RecordedCall",
    "RepeatLimitReached",
    "RepeatedToolCallError",
    "ReplyText",
    "ToolApprovalRequired",
    "ToolApprovalResponse",
    "ToolCall",
    "ToolCallResult",
]
