# From the reference's feature walkthrough, section 2 "Add branches and loops":
# https://github.com/run-llama/workflows-py/blob/main/examples/feature_walkthrough.ipynb
# The notebook's top-level `await` cells are the body of main().
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent


class InputEvent(StartEvent):
    input: str | int


class OutputEvent(StopEvent):
    output: str | int


class AddTextEvent(Event):
    text: str


class AddNumberEvent(Event):
    number: int


class Add10Workflow(Workflow):
    @step
    async def route(self, ev: InputEvent) -> AddTextEvent | AddNumberEvent | OutputEvent:
        if isinstance(ev.input, str):
            if "!" * 10 not in ev.input:
                return AddTextEvent(text=ev.input)
            else:
                return OutputEvent(output=ev.input)
        elif isinstance(ev.input, int):
            if ev.input < 10:
                return AddNumberEvent(number=ev.input)
            else:
                return OutputEvent(output=ev.input)
        else:
            raise ValueError("Input must be a string or int")

    @step
    async def add_text(self, ev: AddTextEvent) -> InputEvent:
        return InputEvent(input=ev.text + "!")

    @step
    async def add_number(self, ev: AddNumberEvent) -> InputEvent:
        return InputEvent(input=ev.number + 1)


async def main():
    w = Add10Workflow(timeout=10)
    result = await w.run(input="hello")
    print(result.output)
    result = await w.run(input=2)
    print(result.output)
