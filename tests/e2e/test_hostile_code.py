"""Hostile functions through the whole stack: each attack fails, clearly, and costs
only its own call."""

from pathlib import Path

import httpx
import pytest

from tests.api import Account, create_function, execute
from tests.harness import JWT_SECRET, Stack


def _denied(api: httpx.Client, account: Account, code: str) -> dict[str, str]:
    """Run ``code``; it must fail as a function error and leave the platform serving."""
    function_id = create_function(api, account, code)

    response = execute(api, account, function_id, None)

    assert response.status_code == 422, response.text
    body: dict[str, str] = response.json()
    assert body["error"] in ("function_error", "worker_crashed"), body
    return body


def _proc_scan(*parts: str) -> str:
    """Code that returns whatever it can read of ``parts`` of every process."""
    return (
        "import os\n"
        "seen = []\n"
        "for pid in os.listdir('/proc'):\n"
        f"    for part in {parts!r}:\n"
        "        try:\n"
        "            with open(f'/proc/{pid}/{part}', 'rb') as f:\n"
        "                seen.append(f.read(1 << 20))\n"
        "        except OSError:\n"
        "            pass\n"
        "return b'\\n'.join(seen).decode(errors='replace')"
    )


@pytest.fixture(autouse=True)
def _platform_still_serves(api: httpx.Client, account: Account) -> object:
    yield None
    function_id = create_function(api, account, "return input + 1")
    assert execute(api, account, function_id, 1).json() == {"result": 2}


def test_connecting_to_nats_is_denied(
    stack: Stack, api: httpx.Client, account: Account
) -> None:
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        f"s.connect(('127.0.0.1', {stack.nats.port}))\n"
        "return 'connected'"
    )
    _denied(api, account, code)


def test_opening_a_unix_or_udp_socket_is_denied(
    api: httpx.Client, account: Account
) -> None:
    _denied(api, account, "import socket\nsocket.socket(socket.AF_UNIX)")
    _denied(
        api, account, "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
    )


def test_reading_the_nats_store_is_denied(
    stack: Stack, api: httpx.Client, account: Account
) -> None:
    store = stack.workdir / "nats"
    code = f"import os\nreturn os.listdir({str(store)!r})"
    _denied(api, account, code)


def test_no_process_environment_reveals_the_jwt_secret(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, _proc_scan("environ"))

    response = execute(api, account, function_id, None)

    assert JWT_SECRET not in response.text
    assert "FAAS_" not in response.text


def test_running_a_program_is_denied(api: httpx.Client, account: Account) -> None:
    body = _denied(api, account, "import subprocess\nsubprocess.run(['id'])")
    assert "PermissionError" in body["message"] or body["error"] == "worker_crashed"


def test_forking_is_denied(api: httpx.Client, account: Account) -> None:
    _denied(api, account, "import os\nos.fork()")


def test_killing_the_parent_is_denied_and_the_executor_lives(
    stack: Stack, api: httpx.Client, account: Account
) -> None:
    _denied(api, account, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    assert all(executor.alive() for executor in stack.executors)


def test_writing_outside_the_scratch_directory_is_denied(
    tmp_path: Path, api: httpx.Client, account: Account
) -> None:
    target = tmp_path / "written-by-a-function"
    _denied(api, account, f"open({str(target)!r}, 'w').write('x')")
    assert not target.exists()


def test_a_memory_bomb_costs_only_its_call(api: httpx.Client, account: Account) -> None:
    _denied(
        api, account, "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 24))"
    )


def test_an_oversized_result_answers_413_naming_the_limit(
    api: httpx.Client, account: Account
) -> None:
    function_id = create_function(api, account, "return 'x' * 2_000_000")

    response = execute(api, account, function_id, None)

    assert response.status_code == 413
    assert response.json()["error"] == "result_too_large"
    assert "1048576" in response.json()["message"]


def test_endless_printing_is_bounded_in_the_returned_logs(
    api: httpx.Client, account: Account
) -> None:
    code = "for _ in range(100_000):\n    print('y' * 100)\nreturn 'done'"
    function_id = create_function(api, account, code)

    response = execute(api, account, function_id, None, logs="true")

    assert response.status_code in (200, 413), response.text
    if response.status_code == 200:
        assert response.json()["result"] == "done"
        assert len(response.json()["logs"].encode()) <= 65_536 + 200


@pytest.mark.parametrize(
    "code",
    [
        "import os\nreturn open(f'/proc/{os.getppid()}/mem', 'rb').read(16).hex()",
        "import os\nreturn os.readlink(f'/proc/{os.getppid()}/fd/0')",
        "import resource\n"
        "big = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)\n"
        "resource.setrlimit(resource.RLIMIT_DATA, big)",
        "import os\nfds = []\nwhile True:\n    fds.append(os.dup(0))",
    ],
    ids=["parent_memory", "parent_fds", "raise_limit", "fd_exhaustion"],
)
def test_reaching_beyond_the_worker_fails_as_a_function_error(
    api: httpx.Client, account: Account, code: str
) -> None:
    _denied(api, account, code)


def test_filling_the_disk_with_many_files_stops_at_the_scratch_quota(
    stack: Stack, api: httpx.Client, account: Account
) -> None:
    if '"scratch_tmpfs": true' not in stack.executors[0].output():
        pytest.skip("mounts are not permitted here: the scratch quota is not in force")
    code = (
        "n = 0\n"
        "while True:\n"
        "    open(f'part{n}', 'wb').write(b'x' * 4_194_304)\n"
        "    n += 1"
    )

    body = _denied(api, account, code)

    assert "No space left on device" in body["message"]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        ("libc.ptrace(16, os.getppid(), 0, 0)", "ptrace"),
        ("libc.unshare(0x10000000 | 0x40000000)", "unshare"),
        ("libc.syscall(425, 8, None)", "io_uring_setup"),
    ],
)
def test_kernel_calls_through_ctypes_are_denied(
    api: httpx.Client, account: Account, call: str, name: str
) -> None:
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"if {call} == -1:\n"
        f"    raise PermissionError(ctypes.get_errno(), {name!r})\n"
        "return 'it worked'"
    )
    body = _denied(api, account, code)
    assert "PermissionError" in body["message"]


def test_another_functions_code_cannot_be_read(
    api: httpx.Client, account: Account, other_account: Account
) -> None:
    """The other function is warm in a worker beside this one; its code stays there."""
    marker = "secret-marker-of-another-user"
    victim = create_function(api, other_account, f"return {marker!r}")
    assert execute(api, other_account, victim, None).json() == {"result": marker}
    code = _proc_scan("cmdline", "mem", "maps", "environ")
    function_id = create_function(api, account, code)

    response = execute(api, account, function_id, None)

    assert marker not in response.text
