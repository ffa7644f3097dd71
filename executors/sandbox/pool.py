"""Warm workers keyed by function, spares forked ahead, and their recycling."""

import asyncio
import collections
import os

import msgspec
import structlog

from executors.sandbox.errors import (
    FunctionFailedError,
    SandboxUnavailableError,
    WorkerCrashedError,
    WorkerExitedError,
)
from executors.sandbox.launcher import Zygote
from executors.sandbox.limits import SandboxLimits
from executors.sandbox.process import Key, WorkerProcess, describe_crash
from executors.sandbox.protocol import Kind, Load, failure_decoder
from shared.models import Function

log = structlog.get_logger(__name__)

_load_encoder = msgspec.msgpack.Encoder()
_SWEEP_INTERVAL_S = 1.0


class WorkerPool:
    """Hands out a loaded worker per call; keeps at most ``warm_workers`` loaded."""

    def __init__(self, zygote: Zygote, limits: SandboxLimits) -> None:
        self.cold_starts = 0
        self.recycled = 0
        self._zygote = zygote
        self._limits = limits
        self._as_root = os.geteuid() == 0
        self._frame_limit = max(limits.max_result_bytes, 65_536)
        self._idle: dict[Key, list[WorkerProcess]] = {}
        self._lru: collections.OrderedDict[int, WorkerProcess] = (
            collections.OrderedDict()
        )
        self._busy: dict[int, WorkerProcess] = {}
        self._spares: collections.deque[WorkerProcess] = collections.deque()
        self._refill = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def warm_count(self) -> int:
        return len(self._lru) + len(self._busy)

    @property
    def spare_count(self) -> int:
        return len(self._spares)

    def workers(self) -> list[WorkerProcess]:
        return [*self._lru.values(), *self._busy.values(), *self._spares]

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep_spares(), name="sandbox-spares"),
            asyncio.create_task(self._sweep_idle(), name="sandbox-sweep"),
        ]
        self._refill.set()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self.workers():
            worker.close()
        self._idle.clear()
        self._lru.clear()
        self._busy.clear()
        self._spares.clear()

    async def acquire(self, function: Function, *, timeout_s: float) -> WorkerProcess:
        """A worker loaded with ``function``: a warm one, else a spare made warm.

        Raises:
            FunctionFailedError: the code did not compile or its module raised.
            SandboxUnavailableError: no worker could be forked or hardened.
            WorkerCrashedError: the new worker died while loading.
        """
        key = (function.id, function.version)
        self._retire_other_versions(key)
        warm = self._take_idle(key, timeout_s)
        if warm is not None:
            self._busy[warm.pid] = warm
            return warm

        self.cold_starts += 1
        self._make_room(self._limits.warm_workers - 1)
        worker = await self._take_spare()
        worker.key = key
        self._busy[worker.pid] = worker
        loaded = False
        try:
            await self._load(worker, function)
            loaded = True
        except WorkerExitedError as exc:
            raise WorkerCrashedError(await describe_crash(worker, exc)) from exc
        finally:
            if not loaded:
                self.discard(worker, "load_failed")
        return worker

    def release(self, worker: WorkerProcess) -> None:
        """Back to the idle list after a call that ended cleanly."""
        self._busy.pop(worker.pid, None)
        if not worker.alive or worker.calls >= self._limits.max_calls_per_worker:
            self.discard(worker, "worn_out")
            return

        assert worker.key is not None
        worker.idle_cpu_s = worker.cpu_seconds()
        self._idle.setdefault(worker.key, []).append(worker)
        self._lru[worker.pid] = worker
        self._make_room(self._limits.warm_workers)

    def discard(self, worker: WorkerProcess, reason: str) -> None:
        """Kill and forget a worker, wherever it is."""
        self._busy.pop(worker.pid, None)
        if self._lru.pop(worker.pid, None) is not None and worker.key is not None:
            self._idle[worker.key].remove(worker)
            if not self._idle[worker.key]:
                del self._idle[worker.key]
        self._retire(worker, reason)

    def _retire(self, worker: WorkerProcess, reason: str) -> None:
        worker.close()
        self.recycled += 1
        log.debug("sandbox_worker_recycled", pid=worker.pid, reason=reason)

    def _take_idle(self, key: Key, timeout_s: float) -> WorkerProcess | None:
        """The most recently used idle worker of ``key`` with CPU budget left."""
        while idle := self._idle.get(key):
            worker = idle.pop()
            del self._lru[worker.pid]
            if not idle:
                del self._idle[key]

            # Idle, a worker burns at most about idle_cpu_s before the sweep
            # kills it: that bound spares a read of /proc on every call.
            spent = worker.idle_cpu_s + self._limits.idle_cpu_s
            budget_left = self._limits.cpu_budget_s - spent
            if worker.alive and budget_left > timeout_s:
                return worker
            self._retire(worker, "cpu_budget")
        return None

    def _retire_other_versions(self, key: Key) -> None:
        stale = [k for k in self._idle if k[0] == key[0] and k[1] != key[1]]
        for old in stale:
            for worker in list(self._idle.get(old, [])):
                self.discard(worker, "new_version")

    def _make_room(self, allowed: int) -> None:
        while self.warm_count > allowed and self._lru:
            _, oldest = next(iter(self._lru.items()))
            self.discard(oldest, "least_recently_used")

    async def _take_spare(self) -> WorkerProcess:
        self._refill.set()
        while self._spares:
            spare = self._spares.popleft()
            if spare.alive:
                return spare
            spare.close()
        return await self._spawn()

    async def _spawn(self) -> WorkerProcess:
        spawned = await self._zygote.spawn()
        return WorkerProcess(
            pid=spawned.pid,
            pidfd=spawned.pidfd,
            channel=spawned.channel,
            log_fd=spawned.log_fd,
            exit_status=spawned.exit_status,
            max_log_bytes=self._limits.max_log_bytes,
        )

    async def _load(self, worker: WorkerProcess, function: Function) -> None:
        limits = self._limits
        load = Load(
            code=function.code,
            uid=limits.uid_for(function.id) if self._as_root else None,
            memory_bytes=limits.memory_bytes(function.memory_mb),
            file_bytes=limits.max_file_bytes,
            open_files=limits.max_open_files,
            tasks=limits.max_tasks,
            cpu_seconds=limits.cpu_budget_s,
            max_result_bytes=limits.max_result_bytes,
        )
        body = _load_encoder.encode(load)
        kind, reply = await worker.request(Kind.LOAD, body, limit=self._frame_limit)
        if kind == Kind.LOADED:
            return
        if kind != Kind.FAILURE:
            raise WorkerCrashedError("worker answered a load with a bad frame")

        failure = failure_decoder.decode(reply)
        if failure.code == "sandbox_unavailable":
            log.error("sandbox_worker_hardening_failed", reason=failure.message)
            raise SandboxUnavailableError(failure.message)
        raise FunctionFailedError(failure.code, failure.message)

    async def _keep_spares(self) -> None:
        """Keep ``spare_workers`` clean workers forked, refilled as they are taken."""
        while True:
            await self._refill.wait()
            self._refill.clear()
            while len(self._spares) < self._limits.spare_workers:
                try:
                    self._spares.append(await self._spawn())
                except SandboxUnavailableError:
                    log.exception("sandbox_spare_spawn_failed")
                    break

    async def _sweep_idle(self) -> None:
        """Kill idle workers that burn CPU: a thread the user's code left running."""
        while True:
            await asyncio.sleep(_SWEEP_INTERVAL_S)
            for worker in list(self._lru.values()):
                burnt = worker.cpu_seconds() - worker.idle_cpu_s
                if not worker.alive or burnt > self._limits.idle_cpu_s:
                    log.warning(
                        "sandbox_idle_worker_killed", pid=worker.pid, cpu_s=burnt
                    )
                    self.discard(worker, "busy_while_idle")
