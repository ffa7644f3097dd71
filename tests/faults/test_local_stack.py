"""``python -m localstack`` restarts a killed part, the way compose's policy does."""

import functools
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, execute, register
from tests.faults.probes import events
from tests.harness import free_port, start_local_stack, wait_for


def _free_run(length: int) -> int:
    """The first of ``length`` consecutive free loopback ports."""
    for _ in range(50):
        first = free_port()
        if first + length >= 65536:
            continue
        with socket.socket() as probe:
            taken = any(
                probe.connect_ex(("127.0.0.1", first + n)) == 0 for n in range(length)
            )
        if not taken:
            return first
    raise RuntimeError("no run of free ports")


@pytest.fixture
def clustered_local_stack(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The local stack with three clustered nats-servers and two executors."""
    env = {
        "PATH": "/usr/bin:/bin",
        "FAAS_DATA_DIR": str(tmp_path),
        "FAAS_HTTP_PORT": str(free_port()),
        "FAAS_NATS_URL": f"nats://127.0.0.1:{_free_run(3)}",
        "FAAS_NATS_MONITOR_PORT": str(_free_run(3)),
        "FAAS_NATS_CLUSTER": "3",
        "FAAS_NATS_CLUSTER_PORT": str(_free_run(3)),
        "FAAS_METRICS_PORT": "0",
        "FAAS_EXECUTORS": "2",
        "FAAS_EXECUTOR_SLOTS": "2",
        "FAAS_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "stack.log"
    launcher = start_local_stack(env, log_path)
    base_url = f"http://127.0.0.1:{env['FAAS_HTTP_PORT']}"
    try:
        wait_for(
            lambda: len(events(log_path.read_text(), "executor_started")) >= 2,
            timeout_s=60,
            what="the local stack",
        )
        yield base_url, log_path
    finally:
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(60) == 0, log_path.read_text()[-3000:]


def _pid_of(log: str, child: str) -> int:
    started = events(log, "child_started", child=child)
    assert started, f"{child} never started"
    pid: int = started[-1]["pid"]
    return pid


def _restarted(log_path: Path, child: str, old_pid: int) -> bool:
    return _pid_of(log_path.read_text(), child) != old_pid


@pytest.mark.slow
def test_killed_children_of_the_local_stack_come_back_and_it_keeps_serving(
    clustered_local_stack: tuple[str, Path],
) -> None:
    base_url, log_path = clustered_local_stack
    api = httpx.Client(base_url=base_url, timeout=30)
    account = register(api)
    function_id = create_function(api, account, "return input + 1")
    assert execute(api, account, function_id, 1).json() == {"result": 2}
    served = len(events(log_path.read_text(), "executor_started"))

    for child in ("executor-1", "nats-2"):
        victim = _pid_of(log_path.read_text(), child)
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda c=child, v=victim: bool(  # type: ignore[misc]
                events(log_path.read_text(), "child_exited", child=c, pid=v)
            ),
            timeout_s=20,
            what=f"{child} reported",
        )
        # A lost executor costs nothing; a lost server, its clients a reconnect
        # and its streams an election, seconds of 503.
        wait_for(
            lambda: execute(api, account, function_id, 7).json() == {"result": 8},
            timeout_s=30,
            what=f"serving without {child}",
        )
        for n in range(3):
            assert execute(api, account, function_id, n).json() == {"result": n + 1}
        wait_for(
            functools.partial(_restarted, log_path, child, victim),
            timeout_s=30,
            what=f"{child} restarted",
        )

    wait_for(
        lambda: len(events(log_path.read_text(), "executor_started")) > served,
        timeout_s=30,
        what="the restarted executor serving",
    )
    assert execute(api, account, function_id, 41).json() == {"result": 42}
