"""Resources: values a step receives by annotation, made by a factory or read from a file.

    @step
    async def answer(
        self,
        ev: StartEvent,
        llm: Annotated[OpenAI, Resource(make_llm)],
        settings: Annotated[Settings, ResourceConfig("settings.json", path_selector="llm")],
    ) -> StopEvent: ...

A cached resource (`Resource(factory)`, the default, and every `ResourceConfig`) is made
once per workflow instance and reused by its later runs, as in LlamaIndex Workflows; it
lives in the workflow's `ResourceManager` (`Workflow(resource_manager=...)` shares one).
A factory taking the run's `Context` is cached per run instead. `cache=False` makes a value
per step execution. Values are kept by factory object, not by name: two closures made by
one function are two resources (`manager.py`). Factories may be sync or async and may take
resources themselves (`factory.py`); a cycle among them is an error naming it
(`descriptor.py`).
"""

from agentflow.resource.config import ResourceConfig
from agentflow.resource.descriptor import ResourceDescriptor
from agentflow.resource.factory import Resource
from agentflow.resource.manager import ResourceManager

__all__ = ["Resource", "ResourceConfig", "ResourceDescriptor", "ResourceManager"]
