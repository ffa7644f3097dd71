"""Invocations: enqueued on JetStream, answered on the gateway's one inbox."""

import asyncio
import contextlib
import itertools
import time
from collections import Counter

import msgspec
import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.errors import APIError, KeyNotFoundError, NoStreamResponseError
from nats.js.kv import KeyValue

from gateway_api.errors import (
    GatewayTimeoutError,
    NotFoundError,
    QueueFullError,
    ServiceUnavailableError,
    TooManyInvocationsError,
)
from gateway_api.metrics import INVOCATION_DURATION, INVOCATIONS_IN_FLIGHT
from gateway_api.request_ids import current_request_id
from shared import names
from shared.models import (
    Function,
    Invocation,
    InvocationMode,
    InvocationResult,
    invocation_encoder,
    result_decoder,
)
from shared.settings import Settings

log = structlog.get_logger(__name__)

# JetStream refuses a publish to a full stream with one of these error codes
# (maximum messages, maximum bytes).
_STREAM_FULL = {10077, 10078, 10047}
# Time allowed for an answer to travel back after the deadline itself.
_REPLY_GRACE_S = 0.5
_PUBLISH_TIMEOUT_S = 2.0
# Pauses between publishes while the stream has no leader, doubling up to a cap.
_LEADERLESS_BACKOFF_S = (0.1, 1.0)
_RECONNECT_POLL_S = 0.05


class _UnconfirmedPublishError(Exception):
    """The invocation went out, but no acknowledgement says whether it was queued."""


class Invoker:
    """Publishes invocations and hands each answer to the request waiting for it.

    One subscription on ``faas.reply.<instance>.*`` serves every waiting request:
    the last token of the reply subject is the invocation id.
    """

    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        results: KeyValue,
        settings: Settings,
        *,
        instance: str,
    ) -> None:
        self._nc = nc
        self._js = js
        self._results = results
        self._settings = settings
        self._inbox = f"{names.REPLY_SUBJECT_PREFIX}{instance}."
        # Invocation ids: the instance, unique per process, and a counter.
        self._instance = instance
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[bytes]] = {}
        self._in_flight: Counter[str] = Counter()
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._nc.subscribe(
            self._inbox + "*", cb=self._on_reply
        )

    async def close(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()
        for future in self._waiting.values():
            future.cancel()

    async def call(
        self, function: Function, input: msgspec.Raw, *, capture_logs: bool
    ) -> InvocationResult:
        """Run ``function`` and wait for its answer until the deadline.

        Raises:
            TooManyInvocationsError: when the owner already has too many waiting.
            QueueFullError, ServiceUnavailableError: when the queue refuses it.
            GatewayTimeoutError: when no answer came before the deadline.
        """
        owner = function.owner
        limit = self._settings.user_concurrency
        if limit and self._in_flight[owner] >= limit:
            raise TooManyInvocationsError(
                f"Demasiadas invocaciones en curso (límite {limit}); "
                "reintente más tarde"
            )

        invocation = self._invocation(function, input, "sync", capture_logs)
        deadline = time.time() + self._wait_s(function)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[invocation.id] = future
        self._in_flight[owner] += 1
        started = time.perf_counter()
        INVOCATIONS_IN_FLIGHT.inc()

        try:
            try:
                await self._publish(
                    invocation, deadline, reply_to=self._inbox + invocation.id
                )
            except _UnconfirmedPublishError:
                # Only an answer can tell whether it was queued: wait for one
                # rather than invite a retry that could run the function twice.
                log.warning(
                    "invocation_publish_unconfirmed", invocation_id=invocation.id
                )
            answer = await asyncio.wait_for(
                future, deadline - time.time() + _REPLY_GRACE_S
            )
        except TimeoutError as exc:
            raise GatewayTimeoutError(
                "La invocación no terminó antes de su plazo", code="deadline_exceeded"
            ) from exc
        finally:
            self._waiting.pop(invocation.id, None)
            self._in_flight[owner] -= 1
            if not self._in_flight[owner]:
                del self._in_flight[owner]
            INVOCATIONS_IN_FLIGHT.dec()

        INVOCATION_DURATION.observe(time.perf_counter() - started)
        return result_decoder.decode(answer)

    async def submit(
        self, function: Function, input: msgspec.Raw, *, capture_logs: bool
    ) -> InvocationResult:
        """Queue an asynchronous invocation; its record is kept in the bucket."""
        invocation = self._invocation(function, input, "async", capture_logs)
        record = InvocationResult(
            id=invocation.id,
            status="queued",
            function_id=function.id,
            owner=function.owner,
            submitted_at=invocation.submitted_at,
        )
        await self._results.put(invocation.id, msgspec.json.encode(record))
        deadline = time.time() + self._settings.async_result_ttl_s
        try:
            await self._publish(invocation, deadline, reply_to=None)
        except _UnconfirmedPublishError as exc:
            raise ServiceUnavailableError(
                "El sistema de mensajería no confirmó la invocación"
            ) from exc
        return record

    async def record(self, invocation_id: str, owner: str) -> InvocationResult:
        """The stored record of an asynchronous invocation of ``owner``.

        Raises:
            NotFoundError: for an unknown id, an expired record or another owner.
        """
        try:
            entry = await self._results.get(invocation_id)
        except (KeyNotFoundError, ValueError) as exc:
            raise NotFoundError(
                "Invocación no encontrada", code="invocation_not_found"
            ) from exc
        record = result_decoder.decode(entry.value or b"{}")
        if record.owner != owner:
            raise NotFoundError("Invocación no encontrada", code="invocation_not_found")
        return record

    def _invocation(
        self,
        function: Function,
        input: msgspec.Raw,
        mode: InvocationMode,
        capture_logs: bool,
    ) -> Invocation:
        return Invocation(
            id=f"{self._instance}{next(self._ids):x}",
            function_id=function.id,
            input=input,
            mode=mode,
            owner=function.owner,
            capture_logs=capture_logs,
            request_id=current_request_id(),
        )

    def _wait_s(self, function: Function) -> float:
        return (function.timeout_ms + self._settings.dispatch_wait_ms) / 1000

    async def _publish(
        self, invocation: Invocation, deadline: float, *, reply_to: str | None
    ) -> None:
        headers = {
            names.MSG_ID_HEADER: invocation.id,
            names.DEADLINE_HEADER: str(int(deadline * 1000)),
        }
        if reply_to is not None:
            headers[names.REPLY_TO_HEADER] = reply_to
        payload = invocation_encoder.encode(invocation)
        subject = names.invocation_subject(invocation.function_id)

        # Waiting for NATS or for a stream leader is part of the dispatch wait.
        dispatch_until = time.monotonic() + self._settings.dispatch_wait_ms / 1000

        # While reconnecting, nats-py buffers a publish and sends it later, so
        # nothing is published until the connection is back: a call refused
        # meanwhile must not run later.
        while not self._nc.is_connected:
            if time.monotonic() >= dispatch_until:
                raise ServiceUnavailableError(
                    "El sistema de mensajería no está disponible"
                )
            await asyncio.sleep(_RECONNECT_POLL_S)

        # A publish whose acknowledgement was lost is sent once more: the
        # message id makes JetStream store it only once.
        unconfirmed = False
        failures = 0
        backoff, longest = _LEADERLESS_BACKOFF_S
        while True:
            try:
                await self._js.publish(
                    subject, payload, timeout=_PUBLISH_TIMEOUT_S, headers=headers
                )
                return
            except APIError as exc:
                if exc.err_code in _STREAM_FULL:
                    raise QueueFullError(
                        "La cola de invocaciones está llena; reintente más tarde"
                    ) from exc
                if exc.code != 503 or time.monotonic() >= dispatch_until:
                    raise ServiceUnavailableError(
                        "JetStream rechazó la invocación"
                    ) from exc
            except NoStreamResponseError as exc:
                if not self._nc.is_connected or time.monotonic() >= dispatch_until:
                    raise ServiceUnavailableError(
                        "El sistema de mensajería no está disponible"
                    ) from exc
            except nats.errors.Error as exc:
                # After a timeout the publish may have been stored all the same.
                unconfirmed = unconfirmed or isinstance(exc, nats.errors.TimeoutError)
                failures += 1
                if failures == 2 or not self._nc.is_connected:
                    if unconfirmed:
                        raise _UnconfirmedPublishError from exc
                    raise ServiceUnavailableError(
                        "El sistema de mensajería no está disponible"
                    ) from exc
                log.warning("invocation_publish_retried", invocation_id=invocation.id)
                continue

            # No stream leader answered (an election after a node was lost):
            # nothing was stored, so asking again within the dispatch wait is safe.
            log.info(
                "invocation_publish_waiting_for_leader", invocation_id=invocation.id
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, longest)

    async def _on_reply(self, msg: Msg) -> None:
        token = msg.subject[len(self._inbox) :]
        future = self._waiting.pop(token, None)
        if future is None or future.done():
            log.info("invocation_reply_unclaimed", invocation_id=token)
            return
        future.set_result(msg.data)
