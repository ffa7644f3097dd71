"""Pulling invocations: pull requests outstanding for the free slots, no batch waits."""

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable

import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from shared import names

log = structlog.get_logger(__name__)

# How long one pull request waits on the server. A server that restarts, or a
# consumer whose leader moves, forgets the requests it held and says nothing:
# this bounds how long a slot stays idle then.
_PULL_EXPIRES_S = 5.0
# A request is forgotten this long after it expired, if the server's own notice
# of its expiry never came.
_EXPIRY_GRACE_S = 1.0
# While a request waits, the server says so this often; two missed beats mean
# the server (or the consumer's leader) that held it is gone, and the executor
# asks again at once rather than when the request would have expired.
_HEARTBEAT_S = 1.0
_SILENCE_S = 2.5 * _HEARTBEAT_S
_BACKOFF_S = 0.5
_PULL_SUBJECT = (
    f"$JS.API.CONSUMER.MSG.NEXT.{names.INVOCATIONS_STREAM}.{names.EXECUTORS_CONSUMER}"
)
_STATUS = "Status"


class _Request:
    """One pull request the server may still be serving."""

    __slots__ = ("expires_at", "remaining")

    def __init__(self, remaining: int, expires_at: float) -> None:
        self.remaining = remaining
        self.expires_at = expires_at


class Consumer:
    """Keeps pull requests outstanding for exactly the free slots.

    The server sends each message as soon as it exists, so none waits for a
    batch to fill, and one request covers every free slot. Messages arrive on
    one inbox and each is handled in its own task; the executor never asks for
    more messages than it has free slots.
    """

    def __init__(
        self,
        nc: Client,
        handle: Callable[[Msg], Awaitable[None]],
        *,
        slots: int,
    ) -> None:
        self._nc = nc
        self._handle = handle
        self._slots = slots
        self._running: set[asyncio.Task[None]] = set()
        self._requests: deque[_Request] = deque()
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_heard = 0.0
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._puller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)
        self._puller = asyncio.create_task(self._pull())

    async def stop(self, *, grace_s: float) -> None:
        """Stop pulling, let running invocations finish within ``grace_s``.

        Messages the server still sends for outstanding requests go unhandled
        and unacknowledged; JetStream redelivers them after the ack wait.
        """
        self._stopping = True
        if self._puller is not None:
            self._puller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._puller
        if self._subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()

        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _pull(self) -> None:
        """Renew requests that expired or were lost; ask again after failures."""
        while not self._stopping:
            now = time.monotonic()
            self._forget_expired(now)
            if self._requests and now - self._last_heard > _SILENCE_S:
                log.warning("invocation_pull_lost", requested=self._requested())
                self._requests.clear()
            try:
                await self._refill()
            except Exception:
                # The connection is down or being re-established; nats-py
                # reconnects by itself, so wait and ask again.
                log.warning("invocation_pull_failed", exc_info=True)
                await asyncio.sleep(_BACKOFF_S)
                continue

            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_check())

    async def _refill(self) -> None:
        """Ask for as many messages as there are free slots not yet asked for."""
        wanted = self._slots - len(self._running) - self._requested()
        if wanted <= 0 or self._stopping:
            return

        # While reconnecting, nats-py would buffer this request and send it
        # later; the server would then serve a request this side had forgotten.
        if not self._nc.is_connected:
            raise nats.errors.ConnectionReconnectingError
        body = {
            "batch": wanted,
            "expires": int(_PULL_EXPIRES_S * 1e9),
            "idle_heartbeat": int(_HEARTBEAT_S * 1e9),
        }
        await self._nc.publish(
            _PULL_SUBJECT, json.dumps(body).encode(), reply=self._inbox
        )
        now = time.monotonic()
        if not self._requests:
            self._last_heard = now
        self._requests.append(_Request(wanted, now + _PULL_EXPIRES_S + _EXPIRY_GRACE_S))

    def _requested(self) -> int:
        return sum(request.remaining for request in self._requests)

    def _forget_expired(self, now: float) -> None:
        while self._requests and self._requests[0].expires_at <= now:
            self._requests.popleft()

    def _next_check(self) -> float:
        """Seconds until the oldest request expires or the next beat is due."""
        if not self._requests:
            return _PULL_EXPIRES_S
        expiry = self._requests[0].expires_at - time.monotonic()
        return max(0.0, min(expiry, _HEARTBEAT_S))

    async def _on_message(self, msg: Msg) -> None:
        self._last_heard = time.monotonic()
        status = msg.headers.get(_STATUS) if msg.headers else None
        if status is not None:
            self._on_status(status)
            return

        # The server serves one client's requests in the order they were made.
        if self._requests:
            self._requests[0].remaining -= 1
            if self._requests[0].remaining <= 0:
                self._requests.popleft()
        if self._stopping:
            return
        task = asyncio.create_task(self._handle_safely(msg))
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _on_status(self, status: str) -> None:
        """The oldest request ended (expired, or refused) before its batch filled."""
        if status == "100":
            return
        if self._requests:
            self._requests.popleft()
        if status not in ("404", "408"):
            log.warning("invocation_pull_refused", status=status)
        self._wake.set()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _handle_safely(self, msg: Msg) -> None:
        try:
            await self._handle(msg)
        except Exception:
            log.exception("invocation_handling_failed", subject=msg.subject)
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)

        # Asking for the next message now puts the request in the same write
        # as the answer and the ack; the puller covers any failure here.
        current = asyncio.current_task()
        if current is not None:
            self._running.discard(current)
        with contextlib.suppress(Exception):
            await self._refill()
