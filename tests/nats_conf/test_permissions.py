"""nats_conf/nats.conf: each NATS user can do its job and nothing of the other's."""

import asyncio
import os
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client

from localstack import nats_server
from shared import names
from shared.connection import ensure_resources, inbox_prefix
from shared.settings import load_settings
from tests.harness import NATS_PASSWORDS, NatsServer

DENIED_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A server from nats.conf whose resources the gateway user has created."""
    server = NatsServer(tmp_path_factory.mktemp("permissions"))
    server.start()
    try:
        asyncio.run(_set_up(server))
        yield server
    finally:
        server.stop()


async def _set_up(server: NatsServer) -> None:
    settings = load_settings(server.client_env("gateway"))
    nc = await _connect(server, "gateway", [])
    try:
        js = nc.jetstream()
        await ensure_resources(js, settings)
        users = await js.key_value(names.USERS_BUCKET)
        await users.put("ana", b'{"secret": "hash"}')
        functions = await js.key_value(names.FUNCTIONS_BUCKET)
        await functions.put("1", b"{}")
        await js.publish(names.invocation_subject(1), b"{}")
    finally:
        await nc.close()


async def _connect(server: NatsServer, user: str, errors: list[str]) -> Client:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    settings = load_settings(server.client_env(user))
    return await nats.connect(
        server.url,
        user=user,
        password=NATS_PASSWORDS[user],
        inbox_prefix=inbox_prefix(settings),
        error_cb=on_error,
        allow_reconnect=False,
    )


def as_user(
    server: NatsServer,
    user: str,
    action: Callable[[Client], Awaitable[object]],
    *,
    may_fail: bool = False,
) -> list[str]:
    """Run ``action`` as ``user``; return the permission errors the server sent.

    A denied request gets no answer, so only an action expected to be denied
    ``may_fail`` by timing out.
    """

    async def main() -> list[str]:
        errors: list[str] = []
        nc = await _connect(server, user, errors)
        try:
            try:
                await asyncio.wait_for(action(nc), DENIED_WITHIN_S * 5)
            except (TimeoutError, nats.errors.Error):
                if not may_fail:
                    raise
            await nc.flush()
            await asyncio.sleep(0.2)
        finally:
            await nc.close()
        return [error for error in errors if "permissions violation" in error]

    return asyncio.run(main())


def test_the_config_is_valid_and_names_a_missing_password(tmp_path: Path) -> None:
    config = str(nats_server.CONFIG)
    env = {**os.environ, **nats_server.password_env(NATS_PASSWORDS)}
    valid = subprocess.run(
        [nats_server.binary(), "-t", "-c", config], env=env, capture_output=True
    )
    del env["NATS_EXECUTOR_PASSWORD"]
    missing = subprocess.run(
        [nats_server.binary(), "-t", "-c", config],
        env=env,
        capture_output=True,
        text=True,
    )

    assert valid.returncode == 0, valid.stderr
    assert missing.returncode != 0
    assert "NATS_EXECUTOR_PASSWORD" in missing.stderr


def test_a_wrong_password_is_refused(server: NatsServer) -> None:
    async def main() -> None:
        await nats.connect(
            server.url,
            user="executor",
            password="wrong",
            allow_reconnect=False,
            max_reconnect_attempts=0,
        )

    with pytest.raises(nats.errors.Error):
        asyncio.run(main())


def test_the_gateway_keeps_users_and_enqueues_invocations(server: NatsServer) -> None:
    async def work(nc: Client) -> None:
        js = nc.jetstream()
        users = await js.key_value(names.USERS_BUCKET)
        assert (await users.get("ana")).value == b'{"secret": "hash"}'
        ack = await js.publish(names.invocation_subject(1), b"{}")
        assert ack.stream == names.INVOCATIONS_STREAM
        await js.publish(names.FUNCTION_IDS_SUBJECT, b"")
        reply = await nc.subscribe(names.REPLY_SUBJECT_PREFIX + "gw1.*")
        await reply.unsubscribe()

    assert as_user(server, "gateway", work) == []


def test_the_executor_pulls_reads_functions_and_answers(server: NatsServer) -> None:
    async def work(nc: Client) -> None:
        js = nc.jetstream()
        functions = await js.key_value(names.FUNCTIONS_BUCKET)
        assert (await functions.get("1")).value == b"{}"
        watcher = await functions.watchall()
        assert (await watcher.updates(timeout=1)) is not None
        await watcher.stop()

        results = await js.key_value(names.INVOCATIONS_BUCKET)
        await results.put("abc", b"{}")
        subscription = await js.pull_subscribe_bind(
            names.EXECUTORS_CONSUMER, stream=names.INVOCATIONS_STREAM
        )
        messages = await subscription.fetch(1, timeout=1)
        await messages[0].in_progress()
        await messages[0].ack()
        await nc.publish(names.REPLY_SUBJECT_PREFIX + "gw1.abc", b"{}")

    assert as_user(server, "executor", work) == []


async def _read_users(nc: Client) -> None:
    users = await nc.jetstream(timeout=DENIED_WITHIN_S).key_value(names.USERS_BUCKET)
    await users.get("ana")


async def _enqueue(nc: Client) -> None:
    await nc.jetstream(timeout=DENIED_WITHIN_S).publish(
        names.invocation_subject(1), b"{}", timeout=DENIED_WITHIN_S
    )


async def _pull(nc: Client) -> None:
    subscription = await nc.jetstream(timeout=DENIED_WITHIN_S).pull_subscribe_bind(
        names.EXECUTORS_CONSUMER, stream=names.INVOCATIONS_STREAM
    )
    await subscription.fetch(1, timeout=DENIED_WITHIN_S)


def _subscriber(subject: str) -> Callable[[Client], Awaitable[object]]:
    async def subscribe(nc: Client) -> None:
        await nc.subscribe(subject)
        await nc.flush()

    return subscribe


async def _delete_stream(nc: Client) -> None:
    await nc.jetstream(timeout=DENIED_WITHIN_S).delete_stream(names.INVOCATIONS_STREAM)


async def _write_function(nc: Client) -> None:
    await nc.jetstream(timeout=DENIED_WITHIN_S).publish(
        f"$KV.{names.FUNCTIONS_BUCKET}.1", b"{}", timeout=DENIED_WITHIN_S
    )


@pytest.mark.parametrize(
    ("user", "action", "subject"),
    [
        ("executor", _read_users, "KV_users"),
        ("executor", _enqueue, "faas.invoke.1"),
        ("executor", _delete_stream, "STREAM.DELETE"),
        ("executor", _write_function, "$KV.functions.1"),
        ("executor", _subscriber("_INBOX_gateway.>"), "_INBOX_gateway"),
        ("executor", _subscriber("faas.reply.>"), "faas.reply"),
        ("executor", _subscriber("faas.invoke.>"), "faas.invoke"),
        ("gateway", _pull, "MSG.NEXT"),
        ("gateway", _subscriber("_INBOX_executor.>"), "_INBOX_executor"),
        ("gateway", _delete_stream, "STREAM.DELETE"),
        ("gateway", _subscriber("$SYS.>"), "$SYS"),
        ("executor", _subscriber("$SYS.>"), "$SYS"),
    ],
)
def test_each_user_is_denied_what_is_not_its_job(
    server: NatsServer,
    user: str,
    action: Callable[[Client], Awaitable[object]],
    subject: str,
) -> None:
    denied = as_user(server, user, action, may_fail=True)

    assert denied, f"{user} was allowed {subject}"
    assert any(subject.lower() in error.lower() for error in denied), denied
