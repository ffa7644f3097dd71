"""The executor's handling of deliveries: deadlines, retries, and what is not run."""

import json
import os
import signal
from pathlib import Path

import httpx

from tests.api import create_function, execute, register
from tests.harness import Stack, wait_for


def _events(output: str, name: str) -> list[dict[str, object]]:
    events = []
    for line in output.splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            event = json.loads(line)
            if event.get("event") == name:
                events.append(event)
    return events


def test_work_whose_caller_gave_up_is_dropped_unrun(tmp_path: Path) -> None:
    """With no executor, the call ends in 504; a later executor must not run it."""
    with Stack(tmp_path, executors=1, env={"FAAS_DISPATCH_WAIT_MS": "300"}) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        function_id = create_function(api, account, "return input", timeout_ms=200)
        assert execute(api, account, function_id, 1).json() == {"result": 1}

        stack.executors[0].stop()
        response = execute(api, account, function_id, 2)
        assert response.status_code == 504
        assert response.json()["error"] == "deadline_exceeded"

        late = stack.add_executor()
        late.start()
        stack.wait_executor_ready(late)
        wait_for(
            lambda: bool(_events(late.output(), "invocation_expired")),
            timeout_s=10,
            what="expired invocation",
        )

        assert _events(late.output(), "invocation_completed") == []
        assert execute(api, account, function_id, 3).json() == {"result": 3}


def test_a_function_that_kills_its_worker_is_retried_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    with Stack(tmp_path, executors=1, env={"FAAS_MAX_ATTEMPTS": "3"}) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        crashing = create_function(api, account, "import os\nos._exit(7)")
        healthy = create_function(api, account, "return input * 3")

        response = execute(api, account, crashing, None)

        assert response.status_code == 422
        assert response.json()["error"] == "worker_crashed"
        output = stack.executors[0].output()
        assert len(_events(output, "invocation_retried")) == 2
        assert execute(api, account, healthy, 5).json() == {"result": 15}


def test_an_executor_whose_zygote_dies_exits_for_its_supervisor_to_restart(
    tmp_path: Path,
) -> None:
    with Stack(tmp_path, executors=2) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        function_id = create_function(api, account, "return input")
        victim = stack.executors[0]
        zygote_pid = _events(victim.output(), "sandbox_started")[0]["zygote_pid"]
        assert isinstance(zygote_pid, int)

        os.kill(zygote_pid, signal.SIGKILL)

        assert victim.popen is not None
        assert victim.popen.wait(30) == 1
        assert _events(victim.output(), "sandbox_zygote_exited")
        for n in range(6):
            assert execute(api, account, function_id, n).json() == {"result": n}
