"""The zygote: a clean process, started before any secret exists, that forks workers.

It runs ``python -I`` with a minimal environment and only its control socket,
imports what workers share, then forks one worker per ``Spawn`` request and
reports each worker's pid (with a pidfd) and, once reaped, its exit status.
"""

import contextlib
import gc
import importlib
import os
import selectors
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from typing import NoReturn

import msgspec

from executors.sandbox import kernel, landlock, seccomp, worker
from executors.sandbox.protocol import (
    Exited,
    FromZygote,
    Hello,
    Spawn,
    Spawned,
    SpawnFailed,
    ZygoteConfig,
    control_encoder,
    receive_packet,
    to_zygote_decoder,
)


def main(config_json: str) -> NoReturn:
    config = msgspec.json.decode(config_json, type=ZygoteConfig)
    kernel.set_parent_death_signal()
    if os.getppid() != config.executor_pid:
        sys.exit(0)
    kernel.set_dumpable(False)

    missing = _preload(config.preload)
    quota_error: str | None = "disabled"
    if config.scratch_bytes:
        quota_error = _isolate_mounts(config.scratch_root)
    setup = worker.Setup(
        zygote_pid=os.getpid(),
        scratch_root=config.scratch_root,
        read_paths=config.read_paths,
        landlock_abi=landlock.abi_version(),
        seccomp=seccomp.available(),
        scratch_bytes=0 if quota_error else config.scratch_bytes,
    )
    control = socket.socket(fileno=config.control_fd)
    hello = Hello(
        pid=os.getpid(),
        landlock_abi=setup.landlock_abi,
        seccomp_error=seccomp.UNAVAILABLE_REASON,
        missing_modules=missing,
        scratch_quota_error=quota_error,
    )
    _send(control, hello)
    _Zygote(control, setup).run()
    sys.exit(0)


def _isolate_mounts(scratch_root: str) -> str | None:
    """Enter a private mount namespace and check that a tmpfs can be mounted.

    Returns why per-worker tmpfs scratch dirs are impossible (no CAP_SYS_ADMIN,
    as in Docker's default profile), or None.
    """
    try:
        kernel.private_mounts()
    except OSError as exc:
        return f"mount namespace: {exc.strerror}"

    # Workers mount their own later; a failure then would cost every call.
    probe = os.path.join(scratch_root, "mount-probe")
    try:
        os.mkdir(probe, 0o700)
        kernel.mount_tmpfs(probe, size_bytes=4096)
        kernel.unmount(probe)
    except OSError as exc:
        return f"tmpfs: {exc.strerror}"
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(probe)
    return None


def _preload(names: list[str]) -> list[str]:
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _send(control: socket.socket, message: FromZygote, fds: Sequence[int] = ()) -> None:
    socket.send_fds(control, [control_encoder.encode(message)], fds)


class _Zygote:
    def __init__(self, control: socket.socket, setup: worker.Setup) -> None:
        self._control = control
        self._setup = setup
        self._children: set[int] = set()

    def run(self) -> None:
        """Serve spawn requests until the executor closes the control socket."""
        wakeup_read, wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        selector = selectors.DefaultSelector()
        selector.register(self._control, selectors.EVENT_READ)
        selector.register(wakeup_read, selectors.EVENT_READ)
        # Objects that exist now stay out of the collector's reach, so that
        # workers do not copy the pages it would otherwise touch.
        gc.freeze()

        while True:
            for key, _ in selector.select():
                if key.fileobj is self._control:
                    if not self._serve_request():
                        self._stop()
                        return
                else:
                    _drain(wakeup_read)
                    if not self._reap():
                        self._stop()
                        return

    def _serve_request(self) -> bool:
        try:
            data, fds = receive_packet(self._control)
        except ConnectionResetError:
            return False
        if not data:
            return False

        request = to_zygote_decoder.decode(data)
        try:
            self._spawn(request, fds)
        finally:
            for fd in fds:
                os.close(fd)
        return True

    def _spawn(self, request: Spawn, fds: list[int]) -> None:
        if len(fds) != 2:
            _send(self._control, SpawnFailed(request.request, "expected two fds"))
            return

        try:
            pid = os.fork()
        except OSError as exc:
            _send(self._control, SpawnFailed(request.request, f"fork: {exc}"))
            return
        if pid == 0:
            worker.serve(self._setup, fds[0], fds[1])

        self._children.add(pid)
        pidfd = os.pidfd_open(pid)
        try:
            _send(self._control, Spawned(request.request, pid), [pidfd])
        finally:
            os.close(pidfd)

    def _reap(self) -> bool:
        """Collect exited workers; False once the executor is gone."""
        while self._children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return True
            self._children.discard(pid)
            self._remove_scratch(pid)
            try:
                _send(self._control, Exited(pid, status))
            except OSError:
                return False
        return True

    def _remove_scratch(self, pid: int) -> None:
        # rmtree does not follow symlinks the user's code may have left behind.
        path = os.path.join(self._setup.scratch_root, f"w{pid}")
        if self._setup.scratch_bytes:
            with contextlib.suppress(OSError):
                kernel.unmount(path)
        shutil.rmtree(path, ignore_errors=True)

    def _stop(self) -> None:
        for pid in self._children:
            os.kill(pid, signal.SIGKILL)
        for pid in self._children:
            os.waitpid(pid, 0)
            self._remove_scratch(pid)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            continue
    except BlockingIOError:
        return
