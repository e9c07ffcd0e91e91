# From the reference's feature walkthrough, section 1 "Create a simple workflow":
# https://github.com/run-llama/workflows-py/blob/main/examples/feature_walkthrough.ipynb
# The notebook's top-level `await` cells are the body of main().
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent


class UppercaseWorkflow(Workflow):
    @step
    async def to_upper(self, ev: StartEvent) -> StopEvent:
        input_text = ev.get("input_text")
        return StopEvent(result=input_text.upper())


async def main():
    w = UppercaseWorkflow(timeout=10)
    result = await w.run(input_text="hello")
    print(result)
