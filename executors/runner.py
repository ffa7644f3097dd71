"""Running one delivered invocation: checks, the sandbox, the answer, the ack."""

import asyncio
import contextlib
import time
from typing import Any

import msgspec
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.kv import KeyValue

from executors import metrics
from executors.sandbox import RunOutcome, Sandbox
from shared import names
from shared.catalog import FunctionCatalog
from shared.models import (
    Function,
    Invocation,
    InvocationResult,
    InvocationStatus,
    invocation_decoder,
)
from shared.settings import Settings

log = structlog.get_logger(__name__)

# Well inside the consumer's ack wait, so that a running invocation is never
# redelivered while its executor is alive.
_KEEPALIVE_S = 2.0
_RETRY_DELAY_S = 0.05
_result_encoder = msgspec.json.Encoder()


class Runner:
    """Turns one JetStream message into exactly one answer and one acknowledgement."""

    def __init__(
        self,
        nc: Client,
        catalog: FunctionCatalog,
        results: KeyValue,
        sandbox: Sandbox,
        settings: Settings,
    ) -> None:
        self._nc = nc
        self._catalog = catalog
        self._results = results
        self._sandbox = sandbox
        self._settings = settings

    async def handle(self, msg: Msg) -> None:
        """Handle ``msg``; nothing the function does escapes as an exception."""
        structlog.contextvars.clear_contextvars()
        try:
            invocation = invocation_decoder.decode(msg.data)
        except msgspec.DecodeError:
            log.error("invocation_malformed", subject=msg.subject)
            await msg.term()
            return

        structlog.contextvars.bind_contextvars(
            invocation_id=invocation.id,
            function_id=invocation.function_id,
            user=invocation.owner,
            request_id=invocation.request_id,
        )
        headers = msg.headers or {}
        reply_to = headers.get(names.REPLY_TO_HEADER)
        deadline = int(headers.get(names.DEADLINE_HEADER, "0")) / 1000
        attempt = msg.metadata.num_delivered

        outcome = await self._attempt(msg, invocation, deadline, attempt)
        if outcome is None:
            return

        await self._answer(invocation, outcome, reply_to)
        await msg.ack()
        metrics.INVOCATIONS.labels(outcome.error or outcome.status).inc()
        log.info(
            "invocation_completed",
            status=outcome.status,
            error=outcome.error,
            duration_ms=round(outcome.duration_ms, 3),
            attempt=attempt,
        )

    async def _attempt(
        self, msg: Msg, invocation: Invocation, deadline: float, attempt: int
    ) -> InvocationResult | None:
        """Run the invocation, or decide it must not run; None means no answer now."""
        now = time.time()
        if deadline and now >= deadline:
            metrics.EXPIRED.inc()
            log.info("invocation_expired", late_s=round(now - deadline, 3))
            await msg.term()
            await self._record(invocation, "timed_out", "expired", "El plazo venció")
            return None

        if attempt > self._settings.max_attempts:
            return self._failure(
                invocation,
                "attempts_exhausted",
                f"La invocación falló {self._settings.max_attempts} veces",
                attempt,
            )

        function = await self._catalog.fetch(invocation.function_id)
        if function is None or function.owner != invocation.owner:
            return self._failure(
                invocation, "function_not_found", "Función no encontrada", attempt
            )

        metrics.QUEUE_WAIT.observe(max(0.0, now - invocation.submitted_at))
        await self._record(invocation, "running")
        limit_s = function.timeout_ms / 1000
        if deadline:
            limit_s = min(limit_s, deadline - now)

        outcome = await self._run_kept_alive(msg, invocation, function, limit_s)
        if outcome.error == "timeout" and limit_s < function.timeout_ms / 1000:
            # The caller's deadline, not the function's own timeout, cut the run
            # short (a late redelivery): answer as the gateway would have.
            return _record_of(
                invocation,
                "timed_out",
                error="deadline_exceeded",
                message="La invocación no terminó antes de su plazo",
                duration_ms=outcome.duration_s * 1000,
                attempts=attempt,
                finished_at=time.time(),
            )

        retryable = outcome.error in ("worker_crashed", "sandbox_unavailable")
        if retryable and attempt < self._settings.max_attempts:
            metrics.REDELIVERED.inc()
            log.warning("invocation_retried", attempt=attempt, reason=outcome.message)
            await msg.nak(delay=_RETRY_DELAY_S)
            return None

        return self._result(invocation, outcome, attempt)

    async def _run_kept_alive(
        self, msg: Msg, invocation: Invocation, function: Function, limit_s: float
    ) -> RunOutcome:
        keepalive = _KeepAlive(msg)
        metrics.BUSY_SLOTS.inc()
        try:
            with metrics.RUN_DURATION.time():
                return await self._sandbox.run(
                    function,
                    bytes(invocation.input),
                    timeout_s=limit_s,
                    capture_logs=invocation.capture_logs,
                )
        finally:
            metrics.BUSY_SLOTS.dec()
            keepalive.cancel()

    def _result(
        self, invocation: Invocation, outcome: RunOutcome, attempt: int
    ) -> InvocationResult:
        if outcome.ok:
            return _record_of(
                invocation,
                "succeeded",
                result=msgspec.Raw(outcome.result),
                logs=outcome.logs,
                duration_ms=outcome.duration_s * 1000,
                attempts=attempt,
                finished_at=time.time(),
            )
        return _record_of(
            invocation,
            "timed_out" if outcome.error == "timeout" else "failed",
            error=outcome.error,
            message=outcome.message,
            logs=outcome.logs,
            duration_ms=outcome.duration_s * 1000,
            attempts=attempt,
            finished_at=time.time(),
        )

    def _failure(
        self, invocation: Invocation, error: str, message: str, attempt: int
    ) -> InvocationResult:
        return _record_of(
            invocation,
            "failed",
            error=error,
            message=message,
            attempts=attempt,
            finished_at=time.time(),
        )

    async def _answer(
        self, invocation: Invocation, result: InvocationResult, reply_to: str | None
    ) -> None:
        payload = _result_encoder.encode(result)
        if reply_to:
            await self._nc.publish(reply_to, payload)
        if invocation.mode == "async":
            await self._results.put(invocation.id, payload)

    async def _record(
        self,
        invocation: Invocation,
        status: InvocationStatus,
        error: str | None = None,
        message: str | None = None,
    ) -> None:
        """Keep the status of asynchronous invocations; sync callers are answered."""
        if invocation.mode != "async":
            return
        record = _record_of(invocation, status, error=error, message=message)
        await self._results.put(invocation.id, _result_encoder.encode(record))


def _record_of(
    invocation: Invocation, status: InvocationStatus, **fields: Any
) -> InvocationResult:
    """A result of ``invocation`` carrying its identity, and ``fields``."""
    return InvocationResult(
        id=invocation.id,
        status=status,
        function_id=invocation.function_id,
        owner=invocation.owner,
        submitted_at=invocation.submitted_at,
        **fields,
    )


class _KeepAlive:
    """Sends an in-progress ack every few seconds while an invocation runs.

    A timer rather than a task: most runs end long before the first beat, and a
    timer costs far less to set up and cancel.
    """

    def __init__(self, msg: Msg) -> None:
        self._msg = msg
        self._loop = asyncio.get_running_loop()
        self._sending: set[asyncio.Task[None]] = set()
        self._timer = self._loop.call_later(_KEEPALIVE_S, self._beat)

    def cancel(self) -> None:
        self._timer.cancel()

    def _beat(self) -> None:
        task = self._loop.create_task(self._send())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        self._timer = self._loop.call_later(_KEEPALIVE_S, self._beat)

    async def _send(self) -> None:
        with contextlib.suppress(Exception):
            await self._msg.in_progress()
