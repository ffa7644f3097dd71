"""Many concurrent callers over two executors: every call answered once, correctly."""

import asyncio

import httpx

from tests.api import Account, create_function
from tests.harness import Stack

CALLS = 500
CLIENTS = 50


async def _call_all(base_url: str, account: Account, function_ids: list[int]) -> list:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(CALLS):
        queue.put_nowait(n)
    answers: list[tuple[int, int, object]] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            while not queue.empty():
                n = queue.get_nowait()
                function_id = function_ids[n % len(function_ids)]
                response = await http.post(
                    f"/functions/{function_id}/execute",
                    json={"input": n},
                    headers=account.headers,
                )
                answers.append((n, response.status_code, response.json()))

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return answers


def test_500_invocations_from_50_clients_are_each_answered_once_and_right(
    stack: Stack, api: httpx.Client, account: Account
) -> None:
    offsets = [1, 1000, 1_000_000]
    function_ids = [
        create_function(api, account, f"return input + {offset}") for offset in offsets
    ]

    answers = asyncio.run(_call_all(stack.base_url, account, function_ids))

    assert len(answers) == CALLS
    assert sorted(n for n, _, _ in answers) == list(range(CALLS))
    for n, status, body in answers:
        assert status == 200, body
        assert body == {"result": n + offsets[n % len(offsets)]}
    assert "invocation_reply_unclaimed" not in stack.gateway.output()
