"""A slow function of one user holds its slots only; other users' calls go on."""

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, execute, register
from tests.harness import Stack

pytestmark = pytest.mark.load

SLOW_S = 4.0
FAST_CALLS = 30


@pytest.mark.timeout(90)
def test_fast_calls_of_others_finish_while_slow_calls_hold_two_of_four_slots(
    tmp_path: Path,
) -> None:
    env = {"FAAS_EXECUTOR_SLOTS": "2"}
    with (
        Stack(tmp_path, executors=2, env=env) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        sleeper = register(api)
        others = [register(api), register(api)]
        slow = create_function(
            api, sleeper, f"import time\ntime.sleep({SLOW_S})\nreturn input"
        )
        fast = [create_function(api, a, "return input * 3") for a in others]
        # Warm the fast functions so that the timing below is not a cold start.
        for account, function_id in zip(others, fast, strict=True):
            assert execute(api, account, function_id, 1).status_code == 200

        slow_answers: list[httpx.Response] = []

        def call_slow(value: int) -> None:
            with httpx.Client(base_url=stack.base_url, timeout=30) as own:
                slow_answers.append(execute(own, sleeper, slow, value))

        slow_threads = [threading.Thread(target=call_slow, args=(n,)) for n in range(2)]
        slow_started = time.monotonic()
        for thread in slow_threads:
            thread.start()
        time.sleep(0.5)

        latencies = []
        for n in range(FAST_CALLS):
            account, function_id = others[n % 2], fast[n % 2]
            started = time.monotonic()
            response = execute(api, account, function_id, n)
            latencies.append(time.monotonic() - started)
            assert response.json() == {"result": n * 3}
        fast_done = time.monotonic() - slow_started

        for thread in slow_threads:
            thread.join(timeout=30)
        slow_done = time.monotonic() - slow_started

    # The fast calls all finished while the slow ones were still running.
    assert fast_done < SLOW_S, latencies
    assert max(latencies) < 1.0, latencies
    assert sorted(r.json()["result"] for r in slow_answers) == [0, 1]
    assert slow_done >= SLOW_S
