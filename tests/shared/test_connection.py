"""Setting up JetStream: idempotent, and changed limits applied to what exists."""

import asyncio
from pathlib import Path

from shared import names
from shared.connection import connect, ensure_resources
from shared.settings import Settings, load_settings
from tests.harness import NatsServer


async def _set_up(settings: Settings) -> tuple[int, int, float | None]:
    """Run the set-up; return the consumer's max deliver, queue bound and TTL."""
    nc = await connect(settings, name="test")
    try:
        js = nc.jetstream()
        await ensure_resources(js, settings)
        consumer = await js.consumer_info(
            names.INVOCATIONS_STREAM, names.EXECUTORS_CONSUMER
        )
        stream = await js.stream_info(names.INVOCATIONS_STREAM)
        bucket = await js.stream_info(f"KV_{names.INVOCATIONS_BUCKET}")
        assert consumer.config.max_deliver is not None
        assert stream.config.max_msgs is not None
        return (
            consumer.config.max_deliver,
            stream.config.max_msgs,
            bucket.config.max_age,
        )
    finally:
        await nc.close()


def test_set_up_twice_changes_nothing_and_changed_limits_are_applied(
    tmp_path: Path,
) -> None:
    server = NatsServer(tmp_path)
    server.start()
    try:
        base = server.client_env()
        first = asyncio.run(_set_up(load_settings(base)))
        again = asyncio.run(_set_up(load_settings(base)))
        changed = asyncio.run(
            _set_up(
                load_settings(
                    {
                        **base,
                        "FAAS_MAX_ATTEMPTS": "5",
                        "FAAS_QUEUE_MAX_MSGS": "10",
                        "FAAS_ASYNC_RESULT_TTL_S": "100",
                    }
                )
            )
        )
    finally:
        server.stop()

    assert first == again == (4, 100_000, 86_400.0)
    assert changed == (6, 10, 100.0)
