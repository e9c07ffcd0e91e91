"""What a type checker sees `await workflow.run()` give; checked by `test_typed_results.py`.

Never imported by the suite: mypy reads it. The line after a `# reveals: T` comment must make
mypy reveal exactly `T`, and the line after an `# error: code` comment must give mypy's error
of that code; any other error in this file fails the test.
"""

from __future__ import annotations

from typing import Any, reveal_type

from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.events import StartEvent, StopEvent
from agentflow.handler import WorkflowHandler
from agentflow.testing import WorkflowTestRunner
from agents.agent import FunctionAgent, ReActAgent
from agents.agent.agent_workflow import AgentWorkflow
from agents.documents import ExtractionWorkflow
from agents.llm import LLM
from agents.research import ResearchWorkflow


class Untyped(Workflow):
    """Declares no result type, as every workflow written before `Workflow[T]` existed."""

    @step
    async def finish(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="done")


class Greeting(Workflow[str]):
    """Declares that its StopEvent carries a str."""

    @step
    async def finish(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="hello")


class Verdict(StopEvent):
    score: float


class Judge(Workflow[Verdict]):
    """A StopEvent with fields of its own is itself the result."""

    @step
    async def judge(self, ev: StartEvent) -> Verdict:
        return Verdict(score=0.5)


class Invoice(BaseModel):
    total: float


def takes_any_workflow(workflow: Workflow, handler: WorkflowHandler, ctx: Context[Any]) -> None:
    """Unparametrised annotations stay valid under --strict (the result type defaults to Any)."""
    # reveals: agentflow.workflow.Workflow[Any]
    reveal_type(workflow)
    # reveals: agentflow.handler.WorkflowHandler[Any]
    reveal_type(handler)


async def results(llm: LLM) -> None:
    # reveals: Any
    reveal_type(await Untyped().run())
    # reveals: agentflow.handler.WorkflowHandler[str]
    reveal_type(Greeting().run())
    # reveals: str
    reveal_type(await Greeting().run())
    # reveals: int
    reveal_type(await Workflow[int]().run())
    # reveals: typed_results.Verdict
    reveal_type(await Judge().run())

    agent = FunctionAgent(llm=llm)
    # reveals: agents.agent.events.AgentOutput
    reveal_type(await agent.run(user_msg="hi"))
    # reveals: agents.agent.events.AgentOutput
    reveal_type(await agent.run("hi"))
    # reveals: agents.agent.events.AgentOutput
    reveal_type(await ReActAgent(llm=llm).run("hi"))
    # reveals: agents.agent.events.AgentOutput
    reveal_type(await AgentWorkflow(agents=[agent]).run("hi"))

    invoices = ExtractionWorkflow[Invoice](llm=llm, schema=Invoice)
    # reveals: agents.documents.result.ExtractionResult[typed_results.Invoice]
    reveal_type(await invoices.run(files=["a.pdf"]))
    # reveals: agents.documents.result.ExtractionResult[typed_results.Invoice]
    reveal_type(await ExtractionWorkflow(llm=llm, schema=Invoice).run(["a.pdf"]))
    # reveals: agents.research.report.ResearchReport
    reveal_type(await ResearchWorkflow(llm=llm, search="docs/").run("why?"))
    # reveals: str
    reveal_type((await WorkflowTestRunner(Greeting()).run()).result)

    # error: assignment
    wrong: int = await Greeting().run()
    untyped: int = await Untyped().run()
    del wrong, untyped
