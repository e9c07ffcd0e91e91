# From the reference's feature walkthrough, section 1, the typed StartEvent and StopEvent:
# https://github.com/run-llama/workflows-py/blob/main/examples/feature_walkthrough.ipynb
# The notebook's top-level `await` cells are the body of main(); its last cell shows the
# run with a number failing, which main() catches as the notebook's error class (agentflow
# raises a subclass of it that names the field) and says so.
from workflows import Workflow, step
from workflows.errors import WorkflowRuntimeError
from workflows.events import Event, StartEvent, StopEvent


class InputEvent(StartEvent):
    input_text: str


class OutputEvent(StopEvent):
    output_text: str


class InnerEvent(Event):
    text: str


class UppercaseWorkflow(Workflow):
    @step
    async def validate_input(self, ev: InputEvent) -> InnerEvent:
        if len(ev.input_text) < 1:
            raise ValueError("Input text must be at least 1 character long")

        return InnerEvent(text=ev.input_text)

    @step
    async def to_upper(self, ev: InnerEvent) -> OutputEvent:
        return OutputEvent(output_text=ev.text.upper())


async def main():
    w = UppercaseWorkflow(timeout=10)
    result = await w.run(input_text="hello")
    print(result.output_text)

    try:
        result = await w.run(input_text=1234)
    except WorkflowRuntimeError:
        print("WorkflowRuntimeError")
