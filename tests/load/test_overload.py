"""More work than the queue bound admits: quick 503s with Retry-After, then recovery."""

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, execute, register
from tests.harness import Stack
from tests.load.calls import Call, call_all

pytestmark = pytest.mark.load

QUEUE_MAX = 20
BURST = 80
SLOW_S = 0.2


@pytest.mark.timeout(120)
def test_a_full_queue_answers_503_quickly_and_the_platform_recovers(
    tmp_path: Path,
) -> None:
    env = {"FAAS_QUEUE_MAX_MSGS": str(QUEUE_MAX), "FAAS_EXECUTOR_SLOTS": "1"}
    with (
        Stack(tmp_path, executors=1, env=env) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        account = register(api)
        slow = create_function(
            api, account, f"import time\ntime.sleep({SLOW_S})\nreturn input"
        )
        fast = create_function(api, account, "return input + 1")

        # One slot runs a call at a time, the queue holds QUEUE_MAX more:
        # a burst of BURST concurrent calls cannot all be admitted.
        plan = [Call(n, account, slow, n) for n in range(BURST)]
        started = time.monotonic()
        answers = asyncio.run(call_all(stack.base_url, plan, concurrency=BURST))
        burst_s = time.monotonic() - started

        refused = [a for a in answers if a.status == 503]
        served = [a for a in answers if a.status == 200]
        assert len(answers) == BURST
        assert len(refused) + len(served) == BURST, {a.status for a in answers}
        # At most QUEUE_MAX wait and one runs, plus the few that finish
        # while the burst is still arriving.
        assert len(refused) >= BURST // 2
        assert len(served) >= 1
        for answer in refused:
            assert answer.headers.get("Retry-After") is not None
            assert answer.body["error"] == "queue_full", answer.body
            assert answer.seconds < 2.0
        for answer in served:
            assert answer.body == {"result": answer.call.value}
        # Everything admitted drains at one call per SLOW_S, never a hang.
        assert burst_s < (QUEUE_MAX + 2) * SLOW_S + 10

        # Load gone: the queue is empty again and calls succeed, a few at once
        # as well as one by one.
        within = [Call(n, account, fast, n) for n in range(QUEUE_MAX // 2)]
        again = asyncio.run(call_all(stack.base_url, within, concurrency=len(within)))
        assert [a.body for a in again if a.status != 200] == []
        for n in range(5):
            response = execute(api, account, fast, n)
            assert response.status_code == 200, response.text
            assert response.json() == {"result": n + 1}
        response = execute(api, account, slow, "again")
        assert response.json() == {"result": "again"}
