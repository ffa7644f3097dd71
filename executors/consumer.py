"""Pulling invocations: one outstanding pull request per free slot, no batch waits."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from shared import names

log = structlog.get_logger(__name__)

# How long one pull request waits on the server before it is renewed.
_PULL_EXPIRES_S = 20.0
_BACKOFF_S = 0.5


class Consumer:
    """Runs ``slots`` loops, each pulling one message and handling it before the next.

    A pull for one message returns as soon as that message exists, so no message
    waits for a batch to fill, and the executor never holds more messages than
    it has free slots.
    """

    def __init__(
        self,
        js: JetStreamContext,
        handle: Callable[[Msg], Awaitable[None]],
        *,
        slots: int,
    ) -> None:
        self._js = js
        self._handle = handle
        self._slots = slots
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[int] = set()
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        for slot in range(self._slots):
            subscription = await self._js.pull_subscribe_bind(
                durable=names.EXECUTORS_CONSUMER, stream=names.INVOCATIONS_STREAM
            )
            self._tasks.append(asyncio.create_task(self._pull(slot, subscription)))

    async def stop(self, *, grace_s: float) -> None:
        """Stop pulling, let running invocations finish within ``grace_s``."""
        self._stopping.set()
        for slot, task in enumerate(self._tasks):
            if slot not in self._busy:
                task.cancel()
        _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pull(
        self, slot: int, subscription: JetStreamContext.PullSubscription
    ) -> None:
        while not self._stopping.is_set():
            try:
                messages = await subscription.fetch(1, timeout=_PULL_EXPIRES_S)
            except nats.errors.TimeoutError:
                continue
            except Exception:
                # The connection is down or being re-established; nats-py
                # reconnects by itself, so wait and pull again.
                log.warning("invocation_pull_failed", slot=slot, exc_info=True)
                await asyncio.sleep(_BACKOFF_S)
                continue

            self._busy.add(slot)
            try:
                for msg in messages:
                    await self._handle_safely(msg)
            finally:
                self._busy.discard(slot)

    async def _handle_safely(self, msg: Msg) -> None:
        try:
            await self._handle(msg)
        except Exception:
            log.exception("invocation_handling_failed", subject=msg.subject)
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)
