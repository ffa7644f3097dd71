"""Each test is one attack by a function's code: it fails, the caller sees why,
and the sandbox goes on serving other functions."""

import os
import socket
import tempfile
from pathlib import Path

import pytest

from executors.sandbox import RunOutcome
from tests.executors.conftest import SandboxCaller

DENIED = "PermissionError: [Errno 1] Operation not permitted"
FORBIDDEN = "PermissionError: [Errno 13] Permission denied"


def assert_function_error(outcome: RunOutcome, message: str) -> None:
    assert (outcome.ok, outcome.error) == (False, "function_error"), outcome
    assert (outcome.message or "").startswith(message), outcome


def test_tcp_connection_to_a_listening_port_is_refused(caller: SandboxCaller) -> None:
    caller.require_seccomp()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}))"

        outcome = caller.call(code)

        server.settimeout(0.05)
        with pytest.raises(TimeoutError):
            server.accept()
    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_udp_over_ipv6_cannot_even_open_a_socket(caller: SandboxCaller) -> None:
    caller.require_seccomp()
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
        "s.sendto(b'x', ('::1', 9))"
    )

    outcome = caller.call(code)

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_unix_socket_of_the_host_cannot_be_reached(
    caller: SandboxCaller, tmp_path: Path
) -> None:
    caller.require_seccomp()
    path = str(tmp_path / "host.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        code = f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({path!r})"

        outcome = caller.call(code)

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_fd_scan_finds_no_socket_but_its_own_channel(caller: SandboxCaller) -> None:
    leaked = socket.create_server(("127.0.0.1", 0))
    leaked.set_inheritable(True)
    code = (
        "import os, socket, stat\n"
        "sockets = []\n"
        "for fd in range(1024):\n"
        "    try:\n"
        "        if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
        "            sockets.append(fd)\n"
        "    except OSError:\n"
        "        continue\n"
        "return [[fd, int(socket.socket(fileno=os.dup(fd)).family)] for fd in sockets]"
    )

    outcome = caller.call(code)

    leaked.close()
    assert outcome.ok, outcome
    assert outcome.result == f"[[3,{int(socket.AF_UNIX)}]]".encode()
    caller.assert_served()


def test_forged_frames_on_the_inherited_channel_kill_the_worker(
    caller: SandboxCaller,
) -> None:
    code = "import os\nos.write(3, b'\\xff' * 16)\nreturn 1"

    outcome = caller.call(code)

    assert (outcome.ok, outcome.error) == (False, "worker_crashed")
    assert outcome.message == "worker broke the frame protocol (255)"
    caller.assert_served()


def test_listing_proc_self_fd_is_denied(caller: SandboxCaller) -> None:
    caller.require_landlock()

    outcome = caller.call("import os\nreturn os.listdir('/proc/self/fd')")

    assert_function_error(outcome, FORBIDDEN)
    caller.assert_served()


def test_executor_environment_cannot_be_read(caller: SandboxCaller) -> None:
    code = f"return open('/proc/{os.getpid()}/environ', 'rb').read().decode()"

    outcome = caller.call(code)

    assert_function_error(outcome, FORBIDDEN)
    caller.assert_served()


def test_parent_memory_cannot_be_read(caller: SandboxCaller) -> None:
    code = "import os\nreturn len(open(f'/proc/{os.getppid()}/mem', 'rb').read(16))"

    outcome = caller.call(code)

    assert_function_error(outcome, FORBIDDEN)
    caller.assert_served()


def test_world_readable_file_in_a_data_dir_cannot_be_read(
    caller: SandboxCaller,
) -> None:
    caller.require_landlock()
    data_dir = tempfile.mkdtemp(prefix="faas-data-")
    os.chmod(data_dir, 0o755)
    secret = Path(data_dir, "nats.creds")
    secret.write_text("token")
    secret.chmod(0o644)

    outcome = caller.call(f"return open({str(secret)!r}).read()")

    assert_function_error(outcome, FORBIDDEN)
    caller.assert_served()


def test_another_functions_code_and_scratch_cannot_be_read(
    caller: SandboxCaller,
) -> None:
    caller.require_landlock()
    victim = caller.function(
        "MARK = 'victim-code-7f3a'\n"
        "def handler(input):\n"
        "    import os\n"
        "    open('note.txt', 'w').write(MARK)\n"
        "    return os.getpid()"
    )
    victim_pid = int(caller.run(victim).result)
    scratch = os.path.join(caller.sandbox.scratch_root, f"w{victim_pid}")
    code = (
        "stolen = []\n"
        f"for path in ['/proc/{victim_pid}/mem', '/proc/{victim_pid}/environ',\n"
        f"             {scratch!r} + '/note.txt']:\n"
        "    try:\n"
        "        stolen.append(open(path, 'rb').read(64).decode('latin-1'))\n"
        "    except OSError as exc:\n"
        "        stolen.append(type(exc).__name__)\n"
        "return stolen"
    )

    outcome = caller.call(code)

    assert outcome.ok, outcome
    assert outcome.result == b'["PermissionError","PermissionError","PermissionError"]'
    assert caller.run(victim).ok
    caller.assert_served()


def test_os_system_runs_no_program(caller: SandboxCaller) -> None:
    caller.require_seccomp()
    marker = Path(tempfile.gettempdir(), f"faas-pwned-{os.getpid()}")
    code = f"import os\nreturn os.system('touch {marker}')"

    outcome = caller.call(code)

    # glibc's system() reports a shell that could not be spawned as exit 127.
    assert (outcome.ok, outcome.result) == (True, str(127 << 8).encode())
    assert not marker.exists()
    caller.assert_served()


def test_subprocess_cannot_start(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import subprocess\nsubprocess.run(['id'])")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_fork_is_denied(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import os\nos.fork()")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_fork_bomb_stops_at_the_first_fork(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import os\nwhile True:\n    os.fork()")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_execv_is_denied(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import os\nos.execv('/bin/sh', ['sh', '-c', 'id'])")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_killing_the_parent_is_denied(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import os\nos.kill(os.getppid(), 9)")

    assert_function_error(outcome, DENIED)
    assert caller.sandbox.zygote_pid is not None
    os.kill(caller.sandbox.zygote_pid, 0)
    caller.assert_served()


def test_killing_the_executor_is_denied(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call(f"import os\nos.kill({os.getpid()}, 9)")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_signalling_every_process_is_denied(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import os\nos.kill(-1, 9)")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_write_outside_scratch_is_denied(caller: SandboxCaller) -> None:
    caller.require_landlock()
    target = Path(tempfile.gettempdir(), f"faas-written-{os.getpid()}")

    outcome = caller.call(f"open({str(target)!r}, 'w').write('x')")

    assert_function_error(outcome, FORBIDDEN)
    assert not target.exists()
    caller.assert_served()


def test_write_in_scratch_works_up_to_the_file_size_limit(
    caller: SandboxCaller,
) -> None:
    limit = caller.sandbox.limits.max_file_bytes
    code = (
        "with open('big', 'wb') as f:\n"
        f"    for _ in range({limit // 1_048_576 + 1}):\n"
        "        f.write(b'x' * 1_048_576)"
    )

    outcome = caller.call(code)

    assert_function_error(outcome, "OSError: [Errno 27] File too large")
    caller.assert_served()


def test_memory_bomb_raises_memory_error(caller: SandboxCaller) -> None:
    outcome = caller.call("return len(bytearray(4 * 1024 ** 3))", memory_mb=64)

    assert_function_error(
        outcome, "MemoryError: over the function's memory limit (64 MiB)"
    )
    caller.assert_served()


def test_growing_memory_bomb_stops_at_the_function_limit(
    caller: SandboxCaller,
) -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(b'x' * 1_000_000)"

    outcome = caller.call(code, memory_mb=64)

    assert_function_error(outcome, "MemoryError")
    caller.assert_served()


def test_shared_anonymous_memory_is_denied(caller: SandboxCaller) -> None:
    caller.require_seccomp()

    outcome = caller.call("import mmap\nmmap.mmap(-1, 1 << 34)")

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_many_files_together_stop_at_the_scratch_quota(caller: SandboxCaller) -> None:
    """Each file stays under the size limit; together they fill only the tmpfs."""
    if not caller.sandbox.scratch_tmpfs:
        pytest.skip("mounts are not permitted here: the scratch quota is not tested")
    quota = caller.sandbox.limits.scratch_bytes
    code = (
        "n = 0\n"
        "while True:\n"
        "    with open(f'part{n}', 'wb') as f:\n"
        "        f.write(b'x' * 4_194_304)\n"
        "    n += 1"
    )

    outcome = caller.call(code)

    assert_function_error(outcome, "OSError: [Errno 28] No space left on device")
    listing = caller.call(
        "import os\nreturn sum(os.path.getsize(n) for n in os.listdir())"
    )
    assert listing.ok and int(listing.result) == 0
    assert quota <= 64 * 1_048_576
    caller.assert_served()


def test_fd_exhaustion_stops_at_the_open_files_limit(caller: SandboxCaller) -> None:
    code = "import os\nfds = []\nwhile True:\n    fds.append(os.dup(0))"

    outcome = caller.call(code)

    assert_function_error(outcome, "OSError: [Errno 24] Too many open files")
    caller.assert_served()


def test_infinite_loop_times_out_and_the_worker_is_replaced(
    caller: SandboxCaller,
) -> None:
    recycled = caller.sandbox.stats().recycled

    outcome = caller.call("while True:\n    pass", timeout_s=0.3)

    assert (outcome.ok, outcome.error) == (False, "timeout")
    assert outcome.message == "function exceeded its 0.3 s timeout"
    assert 0.3 <= outcome.duration_s < 1.0
    assert caller.sandbox.stats().recycled > recycled
    caller.assert_served()


def test_raising_a_resource_limit_is_refused(caller: SandboxCaller) -> None:
    code = (
        "import resource\n"
        "big = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)\n"
        "resource.setrlimit(resource.RLIMIT_DATA, big)"
    )

    outcome = caller.call(code)

    assert_function_error(outcome, "ValueError: not allowed to raise maximum limit")
    caller.assert_served()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        ("libc.ptrace(16, os.getppid(), 0, 0)", "ptrace"),
        ("libc.unshare(0x10000000 | 0x40000000)", "unshare"),
        ("libc.mount(b'none', b'.', b'tmpfs', 0, None)", "mount"),
        ("libc.syscall(425, 8, None)", "io_uring_setup"),
    ],
)
def test_ctypes_calls_into_the_kernel_are_denied(
    caller: SandboxCaller, call: str, name: str
) -> None:
    caller.require_seccomp()
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"if {call} == -1:\n"
        f"    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), "
        f"{name!r})\n"
        "return 'it worked'"
    )

    outcome = caller.call(code)

    assert_function_error(outcome, DENIED)
    caller.assert_served()


def test_os_exit_is_a_worker_crash(caller: SandboxCaller) -> None:
    outcome = caller.call("import os\nos._exit(3)")

    assert (outcome.ok, outcome.error) == (False, "worker_crashed")
    assert outcome.message == "worker exited with status 3"
    caller.assert_served()


def test_segfault_is_a_worker_crash(caller: SandboxCaller) -> None:
    outcome = caller.call("import ctypes\nctypes.string_at(0)")

    assert (outcome.ok, outcome.error) == (False, "worker_crashed")
    assert outcome.message == "worker was killed by signal SIGSEGV"
    caller.assert_served()


def test_huge_result_is_refused_naming_the_limit(caller: SandboxCaller) -> None:
    outcome = caller.call("return 'x' * 2_000_000")

    assert (outcome.ok, outcome.error) == (False, "result_too_large")
    assert outcome.message == (
        "result of 2000002 bytes exceeds max_result_bytes (1048576)"
    )
    caller.assert_served()


def test_huge_output_is_truncated_with_a_marker(caller: SandboxCaller) -> None:
    code = (
        "import sys\nfor _ in range(80):\n    sys.stdout.write('y' * 65536)\nreturn 1"
    )

    outcome = caller.call(code, capture_logs=True)

    limit = caller.sandbox.limits.max_log_bytes
    assert (outcome.ok, outcome.result) == (True, b"1")
    assert outcome.logs is not None
    assert outcome.logs.startswith("y" * limit)
    extra = 80 * 65536 - limit
    assert outcome.logs[limit:] == f"\n[output truncated: {extra} more bytes dropped]\n"
    caller.assert_served()


def test_non_json_result_is_an_invalid_result(caller: SandboxCaller) -> None:
    outcome = caller.call("return object()")

    assert (outcome.ok, outcome.error) == (False, "invalid_result")
    assert outcome.message is not None
    assert outcome.message.startswith("result is not JSON: TypeError")
    caller.assert_served()


def test_unbounded_recursion_is_a_function_error(caller: SandboxCaller) -> None:
    code = "def down(n):\n    return down(n + 1)\nreturn down(0)"

    outcome = caller.call(code)

    assert_function_error(outcome, "RecursionError: maximum recursion depth")
    caller.assert_served()


def test_thread_left_spinning_after_the_call_gets_the_worker_killed(
    caller: SandboxCaller,
) -> None:
    code = (
        "import threading\n"
        "def spin():\n"
        "    while True:\n"
        "        pass\n"
        "threading.Thread(target=spin, daemon=True).start()\n"
        "return 'started'"
    )
    recycled = caller.sandbox.stats().recycled
    outcome = caller.call(code)

    caller.runner.run(_sleep(2.5))

    assert outcome.ok, outcome
    assert caller.sandbox.stats().recycled > recycled
    caller.assert_served()


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
