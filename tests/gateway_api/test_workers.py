"""Several gateway processes share the HTTP port and live and die together."""

import os
import signal
from pathlib import Path

import httpx

from tests.api import create_function, execute, register
from tests.harness import Stack, wait_for


def state_and_parent(pid: int) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it."""
    found = state_and_parent(pid)
    return found is not None and found[0] != "Z"


def worker_pids(parent: int) -> set[int]:
    pids = (
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()
    )
    return {
        pid
        for pid in pids
        if running(pid) and (found := state_and_parent(pid)) and found[1] == parent
    }


def test_workers_share_the_port_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    with Stack(tmp_path, executors=1, env={"FAAS_HTTP_WORKERS": "3"}) as stack:
        parent = stack.gateway.pid
        wait_for(lambda: len(worker_pids(parent)) == 2, timeout_s=10, what="workers")
        with httpx.Client(base_url=stack.base_url, timeout=30) as api:
            account = register(api)
            function_id = create_function(api, account, "return input + 1")
            first = worker_pids(parent)

            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            wait_for(
                lambda: (
                    len(worker_pids(parent) - first) == 1
                    and len(worker_pids(parent)) == 2
                ),
                timeout_s=15,
                what="a replacement worker",
            )
            # Fresh connections: each may land on any of the three processes.
            answers = set()
            for value in range(30):
                with httpx.Client(base_url=stack.base_url, timeout=30) as fresh:
                    answers.add(execute(fresh, account, function_id, value).text)
            replaced = worker_pids(parent)

        stack.gateway.signal(signal.SIGTERM)
        wait_for(lambda: not stack.gateway.alive(), timeout_s=20, what="gateway exit")

    assert answers == {f'{{"result": {value + 1}}}' for value in range(30)}
    assert victim not in replaced
    assert "gateway_worker_exited" in stack.gateway.output()
    assert not any(running(pid) for pid in replaced)
