"""The vendor's own examples: the Workflow category (issue 11, item 5).

Pages (vendor docs repository, under ``docs/workflow/``): Workflow Execution V2.md,
Query Workflow Result.md.
"""

from __future__ import annotations

import pytest
import respx

from altabots_async import AsyncAltaBots
from tests._vendor_examples import (
    assert_contains,
    assert_documented_shape,
    assert_request,
    example,
    last_request,
)

pytestmark = pytest.mark.anyio

# docs/workflow/Workflow Execution V2.md, "Request Example" body. Repaired: the placeholder
# "<your_workflow_input_params>" inside "input" (not JSON) replaced by the input of the
# page's own response example, {"topic": "News"}.
INVOKE_REQUEST = example("""
{
    "userId": "<your_user_id>",
    "input": {
        "topic": "News"
    },
    "isAsync": true,
    "webhook": [
        {
            "method": "POST",
            "url": "https://example-1.com",
            "headers": {
                "Accept": "application/json",
                "Authorization": "Bearer <your_token>"
            }
        },
        {
            "method": "GET",
            "url": "https://example-2.com?fr=google",
            "headers": {
                "Accept": "application/json",
                "Authorization": "Bearer <your_token>"
            }
        }
    ]
}
""")

# docs/workflow/Workflow Execution V2.md, the synchronous result example (as printed; the
# same object is the "Response Example" of docs/workflow/Query Workflow Result.md).
RUN = example("""
{
    "workflowId": "xxxxxxxx",
    "workflowName": "todayNews",
    "workflowVersion": "1.0.1",
    "workflowRunId": "xxxxxxxx",
    "input": {
        "topic": "News"
    },
    "output": {
        "news": [
            {
                "summary": "Fatal crash shuts down major highway in Haleiwa. According to Emergency Medical Services, paramedics responded to the scene of the crash Wednesday morning.",
                "media": "Hawaii News Now",
                "title": "Hawaii News Now - Breaking News, Latest News, Weather & Traffic"
            },
            {
                "summary": "Hawaii Crime: Man, 65, critically injured in Waikīkī assault. Jamil Hart found guilty in Mililani murder case. HPD busts illegal gambling room in Nanakuli.",
                "media": "KHON2",
                "title": "KHON2: Hawaii News, Weather, Sports, Breaking News & Live"
            }
        ]
    },
    "workflowExecutionTime": 8347,
    "status": "SUCCEED",
    "totalCost": 0.6928,
    "totalTokens": 1745,
    "startTime": 1758765323024,
    "endTime": 1758765331373
}
""")

# docs/workflow/Workflow Execution V2.md, the asynchronous answer (as printed).
PENDING = example("""
{
    "workflowId": "xxxxxxxx",
    "workflowName": "todayNews",
    "workflowVersion": "1.0.1",
    "workflowRunId": "xxxxxxxx",
    "status": "PENDING"
}
""")


async def test_workflow_execution_async_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The (repaired) request example is what ``invoke`` sends; the async answer decodes."""
    route = router.post("/v1/workflow/invoke").respond(200, json=PENDING)

    run = await client.workflows.invoke(
        input=INVOKE_REQUEST["input"],
        user_id=INVOKE_REQUEST["userId"],
        is_async=True,
        webhook=INVOKE_REQUEST["webhook"],
    )

    assert_request(last_request(route), "POST", "/v1/workflow/invoke", body=INVOKE_REQUEST)
    assert (run.workflow_run_id, run.status, run.done) == ("xxxxxxxx", "PENDING", False)
    assert_contains(run.to_dict(), PENDING)


async def test_workflow_execution_sync_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """A synchronous run sends ``userId`` and ``input``; the full result decodes."""
    route = router.post("/v1/workflow/invoke").respond(200, json=RUN)

    run = await client.workflows.invoke(input={"topic": "News"}, user_id="<your_user_id>")

    assert_request(
        last_request(route),
        "POST",
        "/v1/workflow/invoke",
        body={"userId": "<your_user_id>", "input": {"topic": "News"}},
    )
    assert (run.status, run.done, run.total_cost, run.total_tokens) == (
        "SUCCEED",
        True,
        0.6928,
        1745,
    )
    assert run.output == RUN["output"]
    assert run.to_dict() == RUN


async def test_query_workflow_result_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``POST /v1/workflow/query/result {"workflowRunId"}``; the result decodes."""
    route = router.post("/v1/workflow/query/result").respond(200, json=RUN)

    run = await client.workflows.get_result("xxxxxxxx")

    assert_request(
        last_request(route),
        "POST",
        "/v1/workflow/query/result",
        body={"workflowRunId": "xxxxxxxx"},
    )
    assert (run.workflow_name, run.start_time, run.end_time) == (
        "todayNews",
        1758765323024,
        1758765331373,
    )


async def test_simulator_answers_workflow_calls_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator's sync, async and result answers have the examples' keys and kinds."""
    workflows = sim_client.workflows.with_raw_response
    finished = await workflows.invoke(input={"topic": "News"})
    pending = await workflows.invoke(input={"topic": "News"}, is_async=True)
    result = await workflows.get_result(finished.parse().workflow_run_id)

    free = ["body.input", "body.output"]
    assert_documented_shape(finished.body, RUN, free=free)
    assert_documented_shape(pending.body, PENDING)
    assert_documented_shape(result.body, RUN, free=free)
