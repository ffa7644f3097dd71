"""The request id APISIX sets follows an invocation into gateway and executor logs."""

import json
import re
import uuid

import httpx

from tests.api import Account, create_function
from tests.harness import Stack, wait_for


def executor_events(stack: Stack, request_id: str) -> list[dict[str, object]]:
    found = []
    for executor in stack.executors:
        for line in executor.output().splitlines():
            if request_id in line and line.startswith("{"):
                found.append(json.loads(line))
    return found


def test_the_request_id_is_echoed_and_reaches_the_executor_logs(
    stack: Stack, api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "return input * 2")
    request_id = f"apisix-{uuid.uuid4().hex}"

    response = api.post(
        f"/functions/{function_id}/execute",
        json={"input": 21},
        headers={**account.headers, "X-Request-Id": request_id},
    )

    assert response.json() == {"result": 42}
    assert response.headers["x-request-id"] == request_id
    wait_for(
        lambda: bool(executor_events(stack, request_id)),
        timeout_s=5,
        what="an executor log line with the request id",
    )
    event = executor_events(stack, request_id)[0]
    assert event["function_id"] == function_id
    assert event["user"] == account.username


def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(
    api: httpx.Client,
) -> None:
    unsafe = "x" * 200
    plain = api.get("/healthz")
    replaced = api.get("/healthz", headers={"X-Request-Id": unsafe})

    for response in (plain, replaced):
        assert re.fullmatch("[0-9a-f]{32}", response.headers["x-request-id"])
    assert plain.headers["x-request-id"] != replaced.headers["x-request-id"]
