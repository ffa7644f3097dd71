"""One user's flood of slow calls against another user's fast ones."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, execute, register
from tests.faults.probes import report
from tests.harness import Stack

_FLOOD = 8
_SLOW_S = 1.0


@pytest.mark.slow
def test_a_flood_of_slow_calls_delays_other_users_by_its_backlog_only(
    tmp_path: Path,
) -> None:
    """The queue is first in, first out: a fast call waits for the work queued
    before it (flood x duration / slots), never longer, and never fails."""
    with Stack(tmp_path, executors=1, env={"FAAS_EXECUTOR_SLOTS": "2"}) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=60)
        flooder, bystander = register(api), register(api)
        slow = create_function(
            api, flooder, f"import time\ntime.sleep({_SLOW_S})\nreturn input"
        )
        fast = create_function(api, bystander, "return input + 1")
        assert execute(api, bystander, fast, 0).json() == {"result": 1}
        idle_started = time.monotonic()
        execute(api, bystander, fast, 0)
        idle_s = time.monotonic() - idle_started

        with ThreadPoolExecutor(_FLOOD) as pool:
            flood = [pool.submit(execute, api, flooder, slow, n) for n in range(_FLOOD)]
            time.sleep(0.3)
            latencies = []
            for n in range(3):
                started = time.monotonic()
                answer = execute(api, bystander, fast, n)
                latencies.append(time.monotonic() - started)
                assert answer.json() == {"result": n + 1}
            assert [f.result().json() for f in flood] == [
                {"result": n} for n in range(_FLOOD)
            ]

        backlog_s = _FLOOD * _SLOW_S / 2
        assert latencies[0] <= backlog_s + 5
        assert max(latencies[1:]) <= backlog_s + 5
        report(
            "fairness",
            idle_ms=round(idle_s * 1000, 1),
            fast_latencies_s=[round(s, 2) for s in latencies],
            backlog_s=backlog_s,
        )
