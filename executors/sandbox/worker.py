"""Code that runs inside a worker: harden the process, load one function, serve it.

The zygote forks and calls ``serve``, which never returns. Until a ``Load``
arrives the worker is a clean spare; the hardening that depends on the function
(uid, memory) happens then, before any of the user's code runs.
"""

import builtins
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import msgspec

from executors.sandbox import kernel, landlock, seccomp
from executors.sandbox.outcome import ErrorCode
from executors.sandbox.protocol import (
    Failure,
    Kind,
    Load,
    load_decoder,
    receive_frame,
    send_frame,
)
from shared.code import compile_function
from shared.errors import CodeError

CHANNEL_FD = 3
_MAX_MESSAGE = 2_000
_HARDENING_FAILED = 71
_BROKEN = 70

_encoder = msgspec.json.Encoder()
_failure_encoder = msgspec.msgpack.Encoder()

Handler = Callable[[Any], Any]


class Setup(msgspec.Struct, frozen=True, kw_only=True):
    """What the zygote knows about every worker it forks."""

    zygote_pid: int
    scratch_root: str
    read_paths: list[str]
    landlock_abi: int
    seccomp: bool
    scratch_bytes: int = 0
    """Size of the tmpfs mounted on each scratch dir; 0 when mounts are unavailable."""


def serve(setup: Setup, channel_fd: int, log_fd: int) -> NoReturn:
    """Run a worker to its end; exits the process, never returns to the zygote."""
    try:
        status = _run(setup, channel_fd, log_fd)
    except BaseException:
        # The executor sees the status, and the channel closing, and logs both.
        status = _BROKEN
    os._exit(status)


def _run(setup: Setup, channel_fd: int, log_fd: int) -> int:
    try:
        channel = _isolate(setup, channel_fd, log_fd)
        spare = _prepare(setup)
    except OSError:
        return _HARDENING_FAILED

    received = receive_frame(channel)
    if received is None or received[0] != Kind.LOAD:
        return 0
    load = load_decoder.decode(received[1])

    try:
        _harden(setup, load, spare)
    except OSError as exc:
        _fail(channel, "sandbox_unavailable", f"worker hardening failed: {exc}")
        return _HARDENING_FAILED

    handler = _load_function(channel, load.code)
    if handler is None:
        return 0
    send_frame(channel, Kind.LOADED, b"")
    _serve_calls(channel, handler, load)
    return 0


def _isolate(setup: Setup, channel_fd: int, log_fd: int) -> socket.socket:
    """Detach from the zygote: own session, only the fds a worker needs, no env."""
    kernel.set_parent_death_signal()
    if os.getppid() != setup.zygote_pid:
        os._exit(0)
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    channel = os.dup(channel_fd)
    log = os.dup(log_fd)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(channel, CHANNEL_FD)
    # Above the channel, every fd is the zygote's: close them all.
    os.closerange(CHANNEL_FD + 1, _max_fd())

    os.umask(0o077)
    os.environ.clear()
    sys.argv = ["function"]
    # /proc/self of a non-dumpable process belongs to root: only briefly
    # dumpable, an unprivileged worker may open it to volunteer for the OOM killer.
    kernel.set_dumpable(True)
    with open("/proc/self/oom_score_adj", "w") as adj:
        adj.write("1000")
    kernel.set_dumpable(False)
    return socket.socket(fileno=CHANNEL_FD)


def _max_fd() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


class _Spare(msgspec.Struct, frozen=True):
    """What a spare worker prepares while it waits for a function."""

    scratch: str
    ruleset: int | None
    program: bytes | None


def _prepare(setup: Setup) -> _Spare:
    """The costly parts of hardening, done ahead while still privileged."""
    scratch = os.path.join(setup.scratch_root, f"w{os.getpid()}")
    os.mkdir(scratch, 0o700)
    if setup.scratch_bytes:
        # Before Landlock opens the dir: its rule must name the tmpfs, not
        # the directory underneath.
        kernel.mount_tmpfs(scratch, size_bytes=setup.scratch_bytes)
    ruleset = None
    if setup.landlock_abi:
        ruleset = landlock.prepare(
            setup.landlock_abi, read_paths=setup.read_paths, write_paths=[scratch]
        )
    program = seccomp.compile_program(os.getpid()) if setup.seccomp else None
    return _Spare(scratch, ruleset, program)


def _harden(setup: Setup, load: Load, spare: _Spare) -> None:
    """Layers that depend on the function, in order; seccomp is always last."""
    if load.uid is not None:
        os.chown(spare.scratch, load.uid, load.uid)
    os.chdir(spare.scratch)

    if load.uid is not None:
        os.setgroups([])
        os.setresgid(load.uid, load.uid, load.uid)
        os.setresuid(load.uid, load.uid, load.uid)
    kernel.drop_capabilities()
    # A change of uid clears the parent-death signal: set it again.
    kernel.set_parent_death_signal()
    if os.getppid() != setup.zygote_pid:
        os._exit(0)

    _set_limits(load)
    kernel.set_dumpable(False)
    kernel.set_no_new_privs()
    if spare.ruleset is not None:
        landlock.enforce(spare.ruleset)
    if spare.program is not None:
        seccomp.install(spare.program)


def _set_limits(load: Load) -> None:
    stack, _ = resource.getrlimit(resource.RLIMIT_STACK)
    limits = {
        resource.RLIMIT_DATA: load.memory_bytes,
        resource.RLIMIT_FSIZE: load.file_bytes,
        resource.RLIMIT_NOFILE: load.open_files,
        resource.RLIMIT_NPROC: load.tasks,
        resource.RLIMIT_CPU: load.cpu_seconds,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_MEMLOCK: 0,
        resource.RLIMIT_MSGQUEUE: 0,
        resource.RLIMIT_STACK: stack if stack != resource.RLIM_INFINITY else 8 << 20,
    }
    for limit, value in limits.items():
        _, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # soft = hard: the user's code cannot raise what it was given.
        resource.setrlimit(limit, (value, value))


def _load_function(channel: socket.socket, code: str) -> Handler | None:
    """Compile and run the module; None once a failure has been reported."""
    try:
        compiled = compile_function(code)
    except CodeError as exc:
        syntax = type(exc.__cause__).__name__ if exc.__cause__ else "SyntaxError"
        _fail(channel, "function_error", f"{syntax}: {exc.message}")
        return None

    namespace: dict[str, Any] = {"__name__": "function", "__builtins__": builtins}
    try:
        exec(compiled, namespace)
    except BaseException as exc:
        _fail(channel, "function_error", _describe(exc))
        return None

    handler = namespace.get("handler")
    if not callable(handler):
        _fail(channel, "function_error", "TypeError: handler is not callable")
        return None
    return handler  # type: ignore[no-any-return]


def _serve_calls(channel: socket.socket, handler: Handler, load: Load) -> None:
    while (received := receive_frame(channel)) is not None:
        kind, body = received
        if kind != Kind.CALL:
            return
        reply_kind, reply = _call(handler, body, load)
        _flush_output()
        send_frame(channel, reply_kind, reply)


def _call(handler: Handler, body: bytes, load: Load) -> tuple[Kind, bytes]:
    """Run one call; this is where everything the user's code raises is caught."""
    max_result = load.max_result_bytes
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return _failure("function_error", "ValueError: input is not valid JSON")

    try:
        result = handler(value)
    except MemoryError:
        limit = load.memory_bytes // 1_048_576
        message = f"MemoryError: over the function's memory limit ({limit} MiB)"
        return _failure("function_error", message)
    except BaseException as exc:
        return _failure("function_error", _describe(exc))

    try:
        encoded = _encoder.encode(result)
    except Exception as exc:
        return _failure("invalid_result", f"result is not JSON: {_describe(exc)}")

    if len(encoded) > max_result:
        message = (
            f"result of {len(encoded)} bytes exceeds max_result_bytes ({max_result})"
        )
        return _failure("result_too_large", message)
    return Kind.RESULT, encoded


def _flush_output() -> None:
    # The user's code may have closed or replaced these; its output is its own.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, TypeError, ValueError):
            continue


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return message[:_MAX_MESSAGE]


def _failure(code: ErrorCode, message: str) -> tuple[Kind, bytes]:
    return Kind.FAILURE, _failure_encoder.encode(Failure(code=code, message=message))


def _fail(channel: socket.socket, code: ErrorCode, message: str) -> None:
    send_frame(channel, *_failure(code, message))
