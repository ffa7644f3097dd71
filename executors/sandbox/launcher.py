"""Starting the zygote, and asking it for workers, from the executor's event loop."""

import asyncio
import itertools
import os
import socket
import sys

import msgspec
import structlog

from executors.sandbox.errors import SandboxUnavailableError
from executors.sandbox.protocol import (
    Exited,
    Hello,
    Spawn,
    Spawned,
    SpawnFailed,
    ZygoteConfig,
    control_encoder,
    from_zygote_decoder,
    receive_packet,
)

log = structlog.get_logger(__name__)

_START_TIMEOUT_S = 30.0
_SPAWN_TIMEOUT_S = 10.0
_ZYGOTE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
# -I ignores PYTHONPATH and the working dir, so the zygote gets our sys.path.
_BOOTSTRAP = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1])['sys_path']; "
    "from executors.sandbox.zygote import main; main(sys.argv[1])"
)


class SpawnedWorker:
    """A freshly forked worker's pieces, before the executor wraps them."""

    def __init__(
        self,
        pid: int,
        pidfd: int,
        channel: socket.socket,
        log_fd: int,
        exit_status: "asyncio.Future[int]",
    ) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.channel = channel
        self.log_fd = log_fd
        self.exit_status = exit_status


class Zygote:
    """The executor's side of the zygote: start it, spawn workers, see them exit."""

    def __init__(self) -> None:
        self.hello: Hello | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._requests = itertools.count(1)
        self._pending: dict[int, asyncio.Future[tuple[int, int]]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._hello: asyncio.Future[Hello] | None = None
        self.gone = asyncio.Event()
        """Set when the zygote exits while the sandbox is open."""

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(
        self,
        *,
        scratch_root: str,
        read_paths: list[str],
        preload: list[str],
        scratch_bytes: int = 0,
    ) -> Hello:
        """Start ``python -I`` with only its control socket and a minimal env.

        Raises:
            SandboxUnavailableError: the zygote did not start or did not answer.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = ZygoteConfig(
            executor_pid=os.getpid(),
            control_fd=theirs.fileno(),
            sys_path=[path for path in sys.path if path],
            preload=preload,
            scratch_root=scratch_root,
            read_paths=read_paths,
            scratch_bytes=scratch_bytes,
        )
        loop = asyncio.get_running_loop()
        self._control = ours
        self._hello = loop.create_future()
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-c",
                _BOOTSTRAP,
                msgspec.json.encode(config).decode(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                env=_ZYGOTE_ENV,
                cwd="/",
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        finally:
            theirs.close()

        loop.add_reader(ours.fileno(), self._on_control)
        try:
            async with asyncio.timeout(_START_TIMEOUT_S):
                self.hello = await self._hello
        except TimeoutError as exc:
            raise SandboxUnavailableError("the zygote did not start in time") from exc
        return self.hello

    async def spawn(self) -> SpawnedWorker:
        """Fork a clean worker; its channel and log pipe come from us, not the zygote.

        Raises:
            SandboxUnavailableError: the zygote is gone or could not fork.
        """
        if self._control is None or self._control.fileno() < 0:
            raise SandboxUnavailableError("the zygote is not running")

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_read, log_write = os.pipe2(os.O_CLOEXEC)
        request = next(self._requests)
        reply = asyncio.get_running_loop().create_future()
        self._pending[request] = reply
        try:
            packet = control_encoder.encode(Spawn(request))
            socket.send_fds(self._control, [packet], [theirs.fileno(), log_write])
            async with asyncio.timeout(_SPAWN_TIMEOUT_S):
                pid, pidfd = await reply
        except (OSError, TimeoutError, SandboxUnavailableError) as exc:
            ours.close()
            os.close(log_read)
            raise SandboxUnavailableError(f"no worker from the zygote: {exc}") from exc
        finally:
            self._pending.pop(request, None)
            theirs.close()
            os.close(log_write)
        return SpawnedWorker(pid, pidfd, ours, log_read, self._exits[pid])

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)

    async def close(self) -> None:
        """Closing the control socket ends the zygote, which kills its workers."""
        if self._control is not None and self._control.fileno() >= 0:
            asyncio.get_running_loop().remove_reader(self._control.fileno())
            self._control.close()
        if self._process is not None:
            await self._process.wait()
        self._fail_everything("the sandbox was closed")

    def _on_control(self) -> None:
        assert self._control is not None
        while True:
            try:
                data, fds = receive_packet(self._control, flags=socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            if not data:
                self._on_zygote_gone()
                return
            self._dispatch(from_zygote_decoder.decode(data), fds)

    def _dispatch(self, message: object, fds: list[int]) -> None:
        match message:
            case Spawned(request=request, pid=pid):
                self._exits[pid] = asyncio.get_running_loop().create_future()
                self._resolve(request, (pid, fds[0]))
            case SpawnFailed(request=request, message=text):
                log.error("sandbox_spawn_failed", reason=text)
                self._reject(request, SandboxUnavailableError(text))
            case Exited(pid=pid, status=status):
                exit_status = self._exits.pop(pid, None)
                if exit_status is not None and not exit_status.done():
                    exit_status.set_result(status)
            case Hello() if self._hello is not None and not self._hello.done():
                self._hello.set_result(message)

    def _resolve(self, request: int, value: tuple[int, int]) -> None:
        reply = self._pending.get(request)
        if reply is None or reply.done():
            os.close(value[1])
            return
        reply.set_result(value)

    def _reject(self, request: int, error: Exception) -> None:
        reply = self._pending.get(request)
        if reply is not None and not reply.done():
            reply.set_exception(error)

    def _on_zygote_gone(self) -> None:
        log.error("sandbox_zygote_exited", pid=self.pid)
        self.gone.set()
        assert self._control is not None
        asyncio.get_running_loop().remove_reader(self._control.fileno())
        self._control.close()
        self._fail_everything("the zygote exited")

    def _fail_everything(self, reason: str) -> None:
        for reply in self._pending.values():
            if not reply.done():
                reply.set_exception(SandboxUnavailableError(reason))
        # Workers die with the zygote (parent-death signal); -1 says so.
        for exit_status in self._exits.values():
            if not exit_status.done():
                exit_status.set_result(-1)
        if self._hello is not None and not self._hello.done():
            self._hello.set_exception(SandboxUnavailableError(reason))
