"""The executor's handle on one worker: frames over its channel, its output, its end."""

import asyncio
import os
import signal
import socket

import structlog

from executors.sandbox.errors import (
    ResultTooLargeError,
    WorkerCrashedError,
    WorkerExitedError,
)
from executors.sandbox.output import OutputBuffer
from executors.sandbox.protocol import HEADER, Kind, frame

log = structlog.get_logger(__name__)

Key = tuple[int, int]
"""A function's (id, version)."""

_READ_SIZE = 262_144
_EXIT_STATUS_WAIT_S = 1.0
_REPLIES = frozenset((Kind.LOADED, Kind.RESULT, Kind.FAILURE))
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class WorkerProcess:
    """One worker process; ``key`` is set once it is loaded with a function."""

    def __init__(
        self,
        *,
        pid: int,
        pidfd: int,
        channel: socket.socket,
        log_fd: int,
        exit_status: "asyncio.Future[int]",
        max_log_bytes: int,
    ) -> None:
        self.pid = pid
        self.key: Key | None = None
        self.calls = 0
        self.idle_cpu_s = 0.0
        self.exit_status = exit_status
        self._pidfd = pidfd
        self._channel = channel
        self._log_fd = log_fd
        self._max_log_bytes = max_log_bytes
        self._output: OutputBuffer | None = None
        self._buffer = bytearray()
        self._reply: asyncio.Future[tuple[int, bytes]] | None = None
        self._reply_limit = 0
        self._alive = True
        self._loop = asyncio.get_running_loop()
        self._stat_fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)

        channel.setblocking(False)
        os.set_blocking(log_fd, False)
        self._loop.add_reader(channel.fileno(), self._on_channel)
        self._loop.add_reader(log_fd, self._drain_output)

    @property
    def alive(self) -> bool:
        return self._alive

    async def request(
        self, kind: Kind, body: bytes, *, limit: int
    ) -> tuple[int, bytes]:
        """Send one frame and wait for the one reply; ``limit`` caps its body.

        Raises:
            WorkerCrashedError: the worker died or broke the protocol.
            ResultTooLargeError: the reply announced more than ``limit`` bytes.
        """
        if not self._alive:
            raise WorkerCrashedError("worker is gone")
        self._reply = self._loop.create_future()
        self._reply_limit = limit
        await self._send(frame(kind, body))
        return await self._reply

    def capture_output(self, enabled: bool) -> None:
        """Start a call: drop output left from before, keep this call's if asked."""
        self._output = None
        # Uncaptured output is dropped by the pipe's reader whenever it comes:
        # only a captured call needs the pipe emptied of what came before.
        if enabled:
            self._drain_output()
            self._output = OutputBuffer(self._max_log_bytes)

    def captured_output(self) -> str | None:
        if self._output is None:
            return None
        self._drain_output()
        output, self._output = self._output, None
        return output.text()

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the whole worker, threads included."""
        try:
            stat = os.pread(self._stat_fd, 1024, 0)
        except OSError:
            return 0.0
        fields = stat.rsplit(b")", 1)[-1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def memory_bytes(self) -> int:
        """Proportional set size, or resident size when smaps is not readable."""
        pss = _read_pss(self.pid)
        if pss is not None:
            return pss
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_SIZE
        except (OSError, IndexError, ValueError):
            return 0

    def kill(self) -> None:
        """SIGKILL through the pidfd, which cannot hit a recycled pid."""
        self._alive = False
        try:
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        except ProcessLookupError:
            return

    def close(self) -> None:
        """Kill if still running and release every fd held for the worker."""
        if self._alive:
            self.kill()
        if self._channel.fileno() >= 0:
            self._loop.remove_reader(self._channel.fileno())
            self._channel.close()
        if self._log_fd >= 0:
            self._loop.remove_reader(self._log_fd)
            os.close(self._log_fd)
            self._log_fd = -1
        for fd in (self._pidfd, self._stat_fd):
            os.close(fd)
        self._pidfd = self._stat_fd = -1

    async def _send(self, data: bytes) -> None:
        try:
            sent = self._channel.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._break(WorkerExitedError("worker closed its channel"))
            raise WorkerExitedError("worker closed its channel") from exc
        if sent < len(data):
            await self._loop.sock_sendall(self._channel, memoryview(data)[sent:])

    def _on_channel(self) -> None:
        try:
            data = self._channel.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._break(WorkerExitedError("worker closed its channel"))
            return
        self._buffer += data
        self._parse()

    def _parse(self) -> None:
        if len(self._buffer) < HEADER.size:
            return
        if self._reply is None or self._reply.done():
            self._break(WorkerCrashedError("worker wrote a frame out of turn"))
            return

        kind, length = HEADER.unpack_from(self._buffer)
        if kind not in _REPLIES:
            self._break(WorkerCrashedError(f"worker broke the frame protocol ({kind})"))
            return
        if length > self._reply_limit:
            limit = self._reply_limit
            message = f"result of {length} bytes exceeds max_result_bytes ({limit})"
            self._break(ResultTooLargeError(message))
            return

        end = HEADER.size + length
        if len(self._buffer) < end:
            return
        body = bytes(self._buffer[HEADER.size : end])
        del self._buffer[:end]
        self._reply.set_result((kind, body))
        if self._buffer:
            self._break(WorkerCrashedError("worker wrote a frame out of turn"))

    def _break(self, error: Exception) -> None:
        """The worker is beyond use: stop reading, kill it, fail the waiting call."""
        if self._channel.fileno() >= 0:
            self._loop.remove_reader(self._channel.fileno())
        self.kill()
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
        log.debug("sandbox_worker_broken", pid=self.pid, reason=str(error))

    def _drain_output(self) -> None:
        # Always drained, captured or not: a full pipe would block the worker.
        while self._log_fd >= 0:
            try:
                data = os.read(self._log_fd, _READ_SIZE)
            except BlockingIOError:
                return
            if not data:
                self._loop.remove_reader(self._log_fd)
                return
            if self._output is not None:
                self._output.write(data)


def _read_pss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as smaps:
            for line in smaps:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


async def describe_crash(worker: WorkerProcess, error: WorkerCrashedError) -> str:
    """The exit status of a worker whose channel closed, else the error itself."""
    if not isinstance(error, WorkerExitedError):
        return error.message
    try:
        async with asyncio.timeout(_EXIT_STATUS_WAIT_S):
            status = await asyncio.shield(worker.exit_status)
    except TimeoutError:
        return error.message
    return describe_exit(status)


def describe_exit(status: int) -> str:
    """Words for a wait status, as the zygote reported it."""
    if status < 0:
        return "worker vanished with the zygote"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number < signal.SIGRTMIN else str(number)
        if name == "SIGKILL":
            return "worker was killed by SIGKILL (out of memory, or killed)"
        return f"worker was killed by signal {name}"
    return f"worker exited with status {os.waitstatus_to_exitcode(status)}"
