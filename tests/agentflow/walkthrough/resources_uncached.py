# From the reference's feature walkthrough, section 5 "Dynamic resource injection", with
# `cache=False`: each run makes a new resource.
# https://github.com/run-llama/workflows-py/blob/main/examples/feature_walkthrough.ipynb
# The notebook's top-level `await` cells are the body of main().
from typing import Annotated

from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.resource import Resource


# Fake a database connection
class DBConnection:
    pass


async def get_db_connection(**kwargs) -> DBConnection:
    print("Creating a new DB connection", flush=True)
    return DBConnection()


class MyWorkflow(Workflow):
    @step
    async def step1(
        self,
        ev: StartEvent,
        db_connection: Annotated[DBConnection, Resource(get_db_connection, cache=False)],
    ) -> StopEvent:
        print("Using DB connection", db_connection, flush=True)
        return StopEvent(result=db_connection)


async def main():
    w = MyWorkflow()
    result = await w.run()
    result = await w.run()
