"""Connecting to NATS with reconnects; creating streams and buckets idempotently."""

import asyncio

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from shared import names
from shared.errors import NatsUnavailableError
from shared.settings import Settings

log = structlog.get_logger(__name__)

# Stream error "already in use with a different configuration".
_STREAM_CONFIG_CHANGED = 10058
_CONSUMER_ACK_WAIT_S = 6.0
_RESOURCES_POLL_S = (0.1, 2.0)


async def connect(settings: Settings, *, name: str) -> Client:
    """Connect to the configured servers, reconnecting forever once connected.

    Raises:
        NatsUnavailableError: when no server answers the first connection.
    """

    async def on_disconnected() -> None:
        log.warning("nats_disconnected", client=name)

    async def on_reconnected() -> None:
        log.info("nats_reconnected", client=name)

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", client=name, error=repr(exc))

    try:
        return await nats.connect(
            servers=settings.nats_servers,
            name=name,
            user=settings.nats_user,
            password=settings.nats_password,
            inbox_prefix=inbox_prefix(settings),
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            connect_timeout=2,
            disconnected_cb=on_disconnected,
            reconnected_cb=on_reconnected,
            error_cb=on_error,
        )
    except Exception as exc:
        raise NatsUnavailableError(f"cannot connect to {settings.nats_url}") from exc


def inbox_prefix(settings: Settings) -> str:
    """Each NATS user gets inboxes of its own, so that none may read another's."""
    return f"_INBOX_{settings.nats_user}" if settings.nats_user else "_INBOX"


def stream_configs(settings: Settings) -> list[api.StreamConfig]:
    """The streams jetfaas needs, besides the ones behind its KV buckets."""
    return [
        api.StreamConfig(
            name=names.FUNCTION_IDS_STREAM,
            subjects=[names.FUNCTION_IDS_SUBJECT],
            storage=api.StorageType.FILE,
            max_msgs=1,
            discard=api.DiscardPolicy.OLD,
            num_replicas=settings.nats_replicas,
        ),
        api.StreamConfig(
            name=names.INVOCATIONS_STREAM,
            subjects=[names.INVOCATION_SUBJECTS],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            max_msgs=settings.queue_max_msgs,
            max_bytes=settings.queue_max_bytes,
            max_msg_size=settings.max_body_bytes + 4096,
            discard=api.DiscardPolicy.NEW,
            duplicate_window=120.0,
            num_replicas=settings.nats_replicas,
        ),
    ]


def bucket_configs(settings: Settings) -> list[api.KeyValueConfig]:
    """The key-value buckets jetfaas needs."""
    replicas = settings.nats_replicas
    return [
        api.KeyValueConfig(
            bucket=names.USERS_BUCKET, storage=api.StorageType.FILE, replicas=replicas
        ),
        api.KeyValueConfig(
            bucket=names.FUNCTIONS_BUCKET,
            storage=api.StorageType.FILE,
            history=5,
            replicas=replicas,
        ),
        api.KeyValueConfig(
            bucket=names.INVOCATIONS_BUCKET,
            storage=api.StorageType.FILE,
            ttl=float(settings.async_result_ttl_s),
            replicas=replicas,
        ),
    ]


def consumer_config(settings: Settings) -> api.ConsumerConfig:
    """The durable pull consumer every executor shares.

    The ack wait is short because a running invocation is kept alive with
    in-progress acks; an executor that dies stops sending them, and its work is
    redelivered within seconds rather than after the longest function timeout.
    """
    return api.ConsumerConfig(
        durable_name=names.EXECUTORS_CONSUMER,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=_CONSUMER_ACK_WAIT_S,
        max_deliver=settings.max_attempts + 1,
        max_ack_pending=4096,
        max_waiting=4096,
        filter_subject=names.INVOCATION_SUBJECTS,
    )


async def ensure_resources(js: JetStreamContext, settings: Settings) -> None:
    """Create or update every stream, bucket and the executors consumer.

    Raises:
        NatsUnavailableError: when JetStream refuses or does not answer.
    """
    try:
        for stream in stream_configs(settings):
            await _ensure_stream(js, stream)
        for bucket in bucket_configs(settings):
            await _ensure_bucket(js, bucket)
        await js.add_consumer(
            names.INVOCATIONS_STREAM, config=consumer_config(settings)
        )
    except Exception as exc:
        raise NatsUnavailableError(f"cannot set up JetStream: {exc}") from exc


async def _ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != _STREAM_CONFIG_CHANGED:
            raise
        log.info("nats_stream_updated", stream=config.name)
        await js.update_stream(config)


async def _ensure_bucket(js: JetStreamContext, config: api.KeyValueConfig) -> None:
    try:
        await js.create_key_value(config=config)
    except BadRequestError as exc:
        if exc.err_code != _STREAM_CONFIG_CHANGED:
            raise
        # The bucket exists with other limits (a changed TTL or history):
        # change them on its stream, keeping everything the bucket holds.
        stream = f"KV_{config.bucket}"
        current = await js.stream_info(stream)
        assert current.config is not None
        window = current.config.duplicate_window
        if config.ttl:
            window = min(window, config.ttl)
        wanted = current.config.evolve(
            max_age=config.ttl,
            max_msgs_per_subject=config.history,
            num_replicas=config.replicas,
            duplicate_window=window,
        )
        log.info("nats_bucket_updated", bucket=config.bucket)
        await js.update_stream(wanted)


async def wait_for_resources(js: JetStreamContext) -> None:
    """Wait until the executors consumer exists, for services that may not create it.

    The gateway creates every resource; an executor that starts first waits for
    it rather than failing, the way a container waits for a dependency.
    """
    delay, longest = _RESOURCES_POLL_S
    while True:
        try:
            await js.consumer_info(names.INVOCATIONS_STREAM, names.EXECUTORS_CONSUMER)
        except NotFoundError:
            log.info("nats_resources_awaited", consumer=names.EXECUTORS_CONSUMER)
        else:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, longest)
