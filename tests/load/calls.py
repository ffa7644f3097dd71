"""Many callers over httpx with each answer kept, and the events services logged."""

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.api import Account


@dataclass(frozen=True)
class Call:
    """One planned invocation."""

    key: int
    account: Account
    function_id: int
    value: Any


@dataclass(frozen=True)
class Answer:
    """What one invocation got back, and how long it took."""

    call: Call
    status: int
    body: Any
    headers: httpx.Headers
    seconds: float


async def call_all(
    base_url: str, calls: Iterable[Call], *, concurrency: int, timeout_s: float = 30
) -> list[Answer]:
    """Send every call from ``concurrency`` clients sharing one connection pool."""
    queue: asyncio.Queue[Call] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    answers: list[Answer] = []
    limits = httpx.Limits(max_connections=concurrency)

    async with httpx.AsyncClient(
        base_url=base_url, timeout=timeout_s, limits=limits
    ) as http:

        async def client() -> None:
            while not queue.empty():
                call = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    f"/functions/{call.function_id}/execute",
                    json={"input": call.value},
                    headers=call.account.headers,
                )
                answers.append(
                    Answer(
                        call,
                        response.status_code,
                        response.json(),
                        response.headers,
                        time.perf_counter() - started,
                    )
                )

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return answers


def logged_events(output: str, event: str) -> list[dict[str, Any]]:
    """The JSON log lines of one event name in a process's output."""
    found = []
    for line in output.splitlines():
        if f'"{event}"' not in line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            found.append(record)
    return found
