"""Executors killed mid-run, all gone, or crashed by a function on every call."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, execute, register
from tests.faults.probes import busy_slots, events
from tests.harness import Stack, wait_for


@pytest.mark.slow
def test_work_of_a_killed_executor_is_run_again_elsewhere_and_answered_once(
    tmp_path: Path,
) -> None:
    with Stack(tmp_path, executors=2) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=60)
        account = register(api)
        slow = create_function(
            api, account, "import time\ntime.sleep(3)\nreturn input", timeout_ms=5000
        )
        answers: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: answers.append(execute(api, account, slow, 4242))
        )
        caller.start()

        wait_for(
            lambda: any(busy_slots(e) >= 1 for e in stack.executors),
            timeout_s=20,
            what="the slow call running",
        )
        victim = next(e for e in stack.executors if busy_slots(e) >= 1)
        survivor = next(e for e in stack.executors if e is not victim)
        victim.kill()
        caller.join(60)

        assert [(r.status_code, r.json()) for r in answers] == [(200, {"result": 4242})]
        runs = events(survivor.output(), "invocation_completed", function_id=slow)
        assert [(run["status"], run["attempt"]) for run in runs] == [("succeeded", 2)]
        assert not events(victim.output(), "invocation_completed", function_id=slow)
        time.sleep(1)
        assert len(events(survivor.output(), "invocation_completed")) == len(runs)
        assert not events(stack.gateway.output(), "invocation_reply_unclaimed")


@pytest.mark.slow
def test_with_no_executor_calls_within_deadline_wait_and_late_ones_never_run(
    tmp_path: Path,
) -> None:
    env = {"FAAS_DISPATCH_WAIT_MS": "1000"}
    with Stack(tmp_path, executors=1, env=env) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=60)
        account = register(api)
        hasty = create_function(api, account, "return input", timeout_ms=500)
        patient = create_function(api, account, "return -input", timeout_ms=20_000)
        assert execute(api, account, hasty, 0).json() == {"result": 0}
        stack.executors[0].stop()

        with ThreadPoolExecutor(6) as pool:
            late = [pool.submit(execute, api, account, hasty, n) for n in (1, 2, 3)]
            waiting = [
                pool.submit(execute, api, account, patient, n) for n in (4, 5, 6)
            ]
            for future in late:
                response = future.result()
                assert response.status_code == 504
                assert response.json()["error"] == "deadline_exceeded"

            fresh = stack.add_executor()
            fresh.start()
            stack.wait_executor_ready(fresh)
            assert [f.result().json() for f in waiting] == [
                {"result": -4},
                {"result": -5},
                {"result": -6},
            ]

        wait_for(
            lambda: len(events(fresh.output(), "invocation_expired")) == 3,
            timeout_s=10,
            what="three expired invocations",
        )
        assert not events(fresh.output(), "invocation_completed", function_id=hasty)
        assert len(events(fresh.output(), "invocation_completed")) == 3


@pytest.mark.slow
def test_a_function_crashing_every_worker_fails_visibly_while_others_are_served(
    tmp_path: Path,
) -> None:
    with Stack(tmp_path, executors=1, env={"FAAS_MAX_ATTEMPTS": "3"}) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=60)
        crasher, bystander = register(api), register(api)
        crashing = create_function(api, crasher, "import os\nos._exit(1)")
        healthy = create_function(api, bystander, "return input + 1")

        queued = [
            execute(api, crasher, crashing, n, mode="async").json()["invocation_id"]
            for n in range(4)
        ]
        with ThreadPoolExecutor(1) as pool:
            sync = pool.submit(execute, api, crasher, crashing, 9)
            served = [execute(api, bystander, healthy, n) for n in range(10)]
            crashed = sync.result()

        assert [r.json() for r in served] == [{"result": n + 1} for n in range(10)]
        assert crashed.status_code == 422
        assert crashed.json()["error"] == "worker_crashed"

        def records() -> list[dict[str, object]]:
            return [
                api.get(f"/invocations/{i}", headers=crasher.headers).json()
                for i in queued
            ]

        wait_for(
            lambda: all(r["status"] == "failed" for r in records()),
            timeout_s=30,
            what="failed records",
        )
        assert {(r["status"], r["error"]) for r in records()} == {
            ("failed", "worker_crashed")
        }
        output = stack.executors[0].output()
        for invocation_id in queued:
            tries = events(output, "invocation_retried", invocation_id=invocation_id)
            assert len(tries) == 2
