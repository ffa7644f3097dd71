"""Sustained load: every accepted invocation answered exactly once, with its result.

CI runs JETFAAS_LOAD_CALLS=2000 (the default); ``make load`` runs 100,000 calls
from 64 clients.
"""

import asyncio
import os
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, register
from tests.harness import Stack
from tests.load.calls import Call, call_all, logged_events

pytestmark = pytest.mark.load

CALLS = int(os.environ.get("JETFAAS_LOAD_CALLS", "2000"))
CONCURRENCY = int(os.environ.get("JETFAAS_LOAD_CONCURRENCY", "32"))
USERS = 3
FUNCTIONS_PER_USER = 2


@pytest.mark.timeout(60 + CALLS // 20)
def test_every_call_is_answered_once_with_its_own_result(tmp_path: Path) -> None:
    with Stack(tmp_path, executors=2) as stack:
        with httpx.Client(base_url=stack.base_url, timeout=30) as api:
            # Each function computes input * k + j with its own (k, j), and each
            # call has its own input, so a misrouted answer cannot look right.
            functions = []
            for user in range(USERS):
                account = register(api)
                for index in range(FUNCTIONS_PER_USER):
                    k, j = user + 2, 1000 * (index + 1) + user
                    code = f"return input * {k} + {j}"
                    functions.append(
                        (account, create_function(api, account, code), k, j)
                    )

        plan = [
            Call(
                n, functions[n % len(functions)][0], functions[n % len(functions)][1], n
            )
            for n in range(CALLS)
        ]
        answers = asyncio.run(call_all(stack.base_url, plan, concurrency=CONCURRENCY))

        assert sorted(a.call.key for a in answers) == list(range(CALLS))
        for answer in answers:
            _, _, k, j = functions[answer.call.key % len(functions)]
            assert answer.status == 200, answer.body
            assert answer.body == {"result": answer.call.value * k + j}

        stack.stop()
        assert logged_events(stack.gateway.output(), "invocation_reply_unclaimed") == []
        completed = Counter(
            record["invocation_id"]
            for executor in stack.executors
            for record in logged_events(executor.output(), "invocation_completed")
        )
        assert len(completed) == CALLS
        assert [i for i, runs in completed.items() if runs > 1] == []
