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


@pytest.mark.slow
def test_a_per_user_limit_turns_a_flood_away_and_keeps_others_waiting_less(
    tmp_path: Path,
) -> None:
    """With FAAS_USER_CONCURRENCY, calls beyond a user's limit get 429 at once,
    so another user waits for at most the limit's worth of work, not the flood's."""
    env = {"FAAS_EXECUTOR_SLOTS": "2", "FAAS_USER_CONCURRENCY": "2"}
    with Stack(tmp_path, executors=1, env=env) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=60)
        flooder, bystander = register(api), register(api)
        slow = create_function(
            api, flooder, f"import time\ntime.sleep({_SLOW_S})\nreturn input"
        )
        fast = create_function(api, bystander, "return input + 1")
        assert execute(api, bystander, fast, 0).json() == {"result": 1}

        def timed_call(n: int) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            return execute(api, flooder, slow, n), time.monotonic() - started

        with ThreadPoolExecutor(_FLOOD) as pool:
            flood = [pool.submit(timed_call, n) for n in range(_FLOOD)]
            time.sleep(0.3)
            started = time.monotonic()
            answer = execute(api, bystander, fast, 1)
            waited_s = time.monotonic() - started
            answers = [f.result() for f in flood]

        refused = [(r, s) for r, s in answers if r.status_code == 429]
        served = [r for r, _ in answers if r.status_code == 200]
        after = execute(api, flooder, slow, 99)

    assert answer.json() == {"result": 2}
    assert len(served) == 2 and len(refused) == _FLOOD - 2
    for response, seconds in refused:
        assert response.json()["error"] == "concurrency_limit"
        assert response.headers["retry-after"] == "1"
        assert seconds < 2
    # Behind at most the two admitted calls: one slot frees within _SLOW_S.
    assert waited_s < _FLOOD * _SLOW_S / 2 - 0.5
    assert after.json() == {"result": 99}
    report("fairness_limited", waited_s=round(waited_s, 2), refused=len(refused))
