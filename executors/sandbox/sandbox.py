"""``Sandbox``: run untrusted function code in hardened worker processes."""

import asyncio
import os
import shutil
import sys
import sysconfig
import tempfile
import time

import msgspec
import structlog

from executors.sandbox import kernel
from executors.sandbox.errors import (
    SandboxError,
    SandboxUnavailableError,
    WorkerCrashedError,
)
from executors.sandbox.launcher import Zygote
from executors.sandbox.limits import SandboxLimits
from executors.sandbox.outcome import ErrorCode, RunOutcome, SandboxStats
from executors.sandbox.pool import WorkerPool
from executors.sandbox.process import WorkerProcess, describe_crash
from executors.sandbox.protocol import Kind, failure_decoder
from shared.models import Function

log = structlog.get_logger(__name__)

# Shared libraries an extension module may load, and the time zone database.
_SYSTEM_READ_PATHS = (
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/usr/share/zoneinfo",
    "/etc/localtime",
)


class Sandbox:
    """Runs functions in workers forked from a clean zygote; see docs/security.md.

    ``start`` must come first in the executor, before any secret is read or any
    connection is made; ``close`` kills every worker and the zygote.
    """

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._zygote = Zygote()
        self._pool: WorkerPool | None = None
        self._scratch_root = ""
        self._own_scratch_root = False

    @property
    def landlock_abi(self) -> int:
        """Landlock ABI the workers are confined with; 0 when unavailable."""
        hello = self._zygote.hello
        return 0 if hello is None else hello.landlock_abi

    @property
    def seccomp_enabled(self) -> bool:
        hello = self._zygote.hello
        return hello is not None and hello.seccomp_error is None

    @property
    def scratch_tmpfs(self) -> bool:
        """Whether each scratch dir is a tmpfs of ``limits.scratch_bytes``."""
        hello = self._zygote.hello
        return hello is not None and hello.scratch_quota_error is None

    @property
    def zygote_pid(self) -> int | None:
        return self._zygote.pid

    @property
    def scratch_root(self) -> str:
        """Parent of every worker's scratch dir, ``w<pid>`` each."""
        return self._scratch_root

    async def start(self) -> None:
        """Start the zygote and the spare workers.

        Raises:
            SandboxUnavailableError: the zygote did not start.
        """
        # Workers of the same uid (a non-root executor) must not read our memory.
        kernel.set_dumpable(False)
        self._scratch_root = self._make_scratch_root()
        hello = await self._zygote.start(
            scratch_root=self._scratch_root,
            read_paths=_interpreter_paths(),
            preload=list(self.limits.preload),
            scratch_bytes=self.limits.scratch_bytes,
        )
        _warn_about_missing_layers(hello.landlock_abi, hello.seccomp_error)
        if hello.scratch_quota_error is not None:
            log.warning(
                "sandbox_layer_unavailable",
                layer="scratch_tmpfs",
                reason=hello.scratch_quota_error,
            )
        if hello.missing_modules:
            log.warning("sandbox_preload_missing", modules=hello.missing_modules)

        self._pool = WorkerPool(self._zygote, self.limits)
        self._pool.start()
        log.info(
            "sandbox_started",
            zygote_pid=hello.pid,
            landlock_abi=hello.landlock_abi,
            seccomp=hello.seccomp_error is None,
            scratch_tmpfs=hello.scratch_quota_error is None,
            scratch_root=self._scratch_root,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await self._zygote.close()
        if self._own_scratch_root:
            shutil.rmtree(self._scratch_root, ignore_errors=True)

    async def run(
        self,
        function: Function,
        input_json: bytes,
        *,
        timeout_s: float,
        capture_logs: bool = False,
    ) -> RunOutcome:
        """Call ``function`` with ``input_json``; never raises for the user's code.

        A worker that timed out, crashed or broke the protocol is killed and
        replaced by the next call; one whose function merely raised stays warm.
        """
        started = time.perf_counter()
        call = _Call(capture_logs)
        try:
            async with asyncio.timeout(timeout_s):
                outcome = await self._call(call, function, input_json, timeout_s)
        except TimeoutError:
            outcome = _failed(
                "timeout", f"function exceeded its {timeout_s:g} s timeout"
            )
        except WorkerCrashedError as exc:
            message = exc.message
            if call.worker is not None:
                message = await describe_crash(call.worker, exc)
            outcome = _failed("worker_crashed", message)
        except SandboxError as exc:
            outcome = _failed(exc.code, exc.message)
        finally:
            logs = self._finish(call)

        duration = time.perf_counter() - started
        return msgspec.structs.replace(outcome, logs=logs, duration_s=duration)

    async def wait_lost(self) -> None:
        """Return once the zygote has died: no worker can be had any more."""
        await self._zygote.gone.wait()

    def stats(self) -> SandboxStats:
        pool = self._pool
        if pool is None:
            return SandboxStats(
                warm_workers=0,
                spare_workers=0,
                cold_starts=0,
                recycled=0,
                memory_bytes=0,
            )
        return SandboxStats(
            warm_workers=pool.warm_count,
            spare_workers=pool.spare_count,
            cold_starts=pool.cold_starts,
            recycled=pool.recycled,
            memory_bytes=sum(worker.memory_bytes() for worker in pool.workers()),
        )

    async def _call(
        self, call: "_Call", function: Function, input_json: bytes, timeout_s: float
    ) -> RunOutcome:
        if self._pool is None:
            raise SandboxUnavailableError("the sandbox is not started")

        call.worker = await self._pool.acquire(function, timeout_s=timeout_s)
        call.worker.capture_output(call.capture_logs)
        call.worker.calls += 1
        kind, body = await call.worker.request(
            Kind.CALL, input_json, limit=max(self.limits.max_result_bytes, 65_536)
        )
        if kind == Kind.RESULT:
            call.healthy = True
            return RunOutcome(ok=True, result=body)
        if kind == Kind.FAILURE:
            call.healthy = True
            failure = failure_decoder.decode(body)
            return _failed(failure.code, failure.message)
        raise WorkerCrashedError("worker answered a call with a bad frame")

    def _finish(self, call: "_Call") -> str | None:
        """Return the worker to the pool, or retire it; hand back its output."""
        worker = call.worker
        if worker is None or self._pool is None:
            return None
        logs = worker.captured_output()
        if call.healthy:
            self._pool.release(worker)
        else:
            self._pool.discard(worker, "failed_call")
        return logs if call.capture_logs else None

    def _make_scratch_root(self) -> str:
        if self.limits.scratch_root is not None:
            os.makedirs(self.limits.scratch_root, exist_ok=True)
            root = self.limits.scratch_root
        else:
            root = tempfile.mkdtemp(prefix="jetfaas-scratch-")
            self._own_scratch_root = True
        # Workers of other uids may enter their own dir, but not list the others.
        os.chmod(root, 0o711)
        return root


class _Call:
    """The worker of one call, and whether it can serve another."""

    def __init__(self, capture_logs: bool) -> None:
        self.capture_logs = capture_logs
        self.worker: WorkerProcess | None = None
        self.healthy = False


def _failed(code: ErrorCode, message: str) -> RunOutcome:
    return RunOutcome(ok=False, error=code, message=message)


def _interpreter_paths() -> list[str]:
    """Where the workers may read: the interpreter's libraries, nothing else."""
    paths = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib")}
    paths |= {sysconfig.get_path(name) for name in ("purelib", "platlib")}
    paths |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    return sorted(paths | set(_SYSTEM_READ_PATHS))


def _warn_about_missing_layers(landlock_abi: int, seccomp_error: str | None) -> None:
    if landlock_abi == 0:
        log.warning("sandbox_layer_unavailable", layer="landlock")
    elif landlock_abi < 6:
        log.warning(
            "sandbox_layer_partial",
            layer="landlock",
            abi=landlock_abi,
            missing="tcp rules (abi 4) or signal scoping (abi 6)",
        )
    if seccomp_error is not None:
        log.warning("sandbox_layer_unavailable", layer="seccomp", reason=seccomp_error)
