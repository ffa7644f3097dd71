"""A three-node JetStream cluster loses the leader of the invocation stream."""

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from shared import names
from tests.api import create_function, execute, register
from tests.cluster import ClusterStack, stop_with
from tests.faults.probes import (
    Load,
    assert_every_call_accounted_for,
    events,
    report,
)
from tests.harness import wait_for

# Function timeout plus dispatch wait: the longest a caller may wait.
_DEADLINE_S = 1.0 + 4.0


@pytest.mark.slow
def test_killing_the_stream_leader_loses_and_duplicates_no_answer(
    tmp_path: Path,
) -> None:
    env = {"FAAS_DISPATCH_WAIT_MS": "4000"}
    with ClusterStack(tmp_path, executors=2, env=env) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        function_id = create_function(api, account, "return input + 1", timeout_ms=1000)
        assert execute(api, account, function_id, 1).json() == {"result": 2}
        leader = stack.cluster.stream_leader(names.INVOCATIONS_STREAM)
        assert leader is not None

        with Load(stack.base_url, account, function_id, clients=4) as load:
            wait_for(lambda: len(load.calls) >= 20, timeout_s=30, what="load")
            killed_at = time.monotonic()
            stop_with(stack.cluster.node(leader), signal.SIGKILL)
            wait_for(
                lambda: bool(load.successes_after(killed_at + 0.1)),
                timeout_s=30,
                what="a call served after the failover",
            )
            time.sleep(3)

        calls = load.calls
        assert_every_call_accounted_for(calls, longest_s=_DEADLINE_S + 5)
        statuses = Counter(call.status for call in calls)
        first = min(c.finished for c in load.successes_after(killed_at + 0.1))
        new_leader = stack.cluster.stream_leader(names.INVOCATIONS_STREAM)
        assert new_leader not in (None, leader)

        # Each executor answers an invocation once; a second completion would
        # be an ack lost in the failover, and its answer would go unclaimed.
        completed = Counter(
            event["invocation_id"]
            for executor in stack.executors
            for event in events(executor.output(), "invocation_completed")
        )
        repeated = sum(1 for count in completed.values() if count > 1)
        unclaimed = events(stack.gateway.output(), "invocation_reply_unclaimed")

        errors = Counter(c.body.get("message") for c in calls if c.status != 200)
        report(
            "stream_leader_failover",
            calls=len(calls),
            statuses=dict(statuses),
            errors=dict(errors),
            pause_s=round(first - killed_at, 2),
            executed_twice=repeated,
            unclaimed=len(unclaimed),
        )
        assert statuses[200] >= 20
        assert repeated <= len(unclaimed)
