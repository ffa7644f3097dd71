"""The function catalog: a copy of the ``functions`` bucket kept fresh by a watch."""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import msgspec
import pytest
from nats.js.kv import KeyValue

from shared import names
from shared.catalog import FunctionCatalog
from shared.connection import connect, ensure_resources
from shared.models import Function
from shared.settings import load_settings
from tests.harness import NatsServer

# Each test uses ids of its own, since the server is shared by the module.
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def nats_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    server = NatsServer(tmp_path_factory.mktemp("catalog"))
    server.start()
    try:
        yield server.client_env()
    finally:
        server.stop()


def function(function_id: int, *, owner: str = "ana", version: int = 1) -> Function:
    now = time.time()
    return Function(
        id=function_id,
        owner=owner,
        name=f"function-{function_id}",
        code=f"return {function_id}",
        timeout_ms=1000,
        memory_mb=64,
        created_at=now,
        updated_at=now,
        version=version,
    )


async def put(kv: KeyValue, value: Function) -> None:
    await kv.put(str(value.id), msgspec.json.encode(value))


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "the catalog did not catch up"
        await asyncio.sleep(0.02)


def run_with_bucket(
    nats_env: dict[str, str], scenario: Callable[[KeyValue], Awaitable[None]]
) -> None:
    """Run ``scenario`` against the real ``functions`` bucket."""

    async def main() -> None:
        settings = load_settings(nats_env)
        nc = await connect(settings, name="catalog-test")
        try:
            js = nc.jetstream()
            await ensure_resources(js, settings)
            await scenario(await js.key_value(names.FUNCTIONS_BUCKET))
        finally:
            await nc.close()

    asyncio.run(main())


def test_start_loads_the_functions_already_in_the_bucket(
    nats_env: dict[str, str],
) -> None:
    first, second = function(next(_ids)), function(next(_ids), owner="luis")

    async def scenario(kv: KeyValue) -> None:
        await put(kv, first)
        await put(kv, second)
        catalog = FunctionCatalog(kv)

        await catalog.start()
        try:
            assert catalog.get(first.id) == first
            assert catalog.get(second.id) == second
        finally:
            await catalog.close()

    run_with_bucket(nats_env, scenario)


def test_start_on_an_empty_bucket_finds_nothing(
    tmp_path: Path,
) -> None:
    server = NatsServer(tmp_path)
    server.start()

    async def scenario(kv: KeyValue) -> None:
        catalog = FunctionCatalog(kv)
        await asyncio.wait_for(catalog.start(), timeout=5)
        try:
            assert catalog.get(1) is None
            assert catalog.owned_by("ana") == []
        finally:
            await catalog.close()

    try:
        run_with_bucket(server.client_env(), scenario)
    finally:
        server.stop()


def test_the_watch_picks_up_a_put_and_a_delete(nats_env: dict[str, str]) -> None:
    """Writes made by another process reach the catalog without a restart."""
    added = function(next(_ids))

    async def scenario(kv: KeyValue) -> None:
        catalog = FunctionCatalog(kv)
        await catalog.start()
        try:
            await put(kv, added)
            await eventually(lambda: catalog.get(added.id) == added)

            await kv.delete(str(added.id))
            await eventually(lambda: catalog.get(added.id) is None)
        finally:
            await catalog.close()

    run_with_bucket(nats_env, scenario)


def test_the_watch_picks_up_an_update(nats_env: dict[str, str]) -> None:
    original = function(next(_ids))
    updated = msgspec.structs.replace(original, code="return 0", version=2)

    async def scenario(kv: KeyValue) -> None:
        await put(kv, original)
        catalog = FunctionCatalog(kv)
        await catalog.start()
        try:
            await put(kv, updated)
            await eventually(lambda: catalog.get(original.id) == updated)
        finally:
            await catalog.close()

    run_with_bucket(nats_env, scenario)


def test_fetch_asks_the_bucket_when_the_copy_lacks_the_function(
    nats_env: dict[str, str],
) -> None:
    """A catalog that is not following yet still finds a stored function."""
    stored = function(next(_ids))

    async def scenario(kv: KeyValue) -> None:
        await put(kv, stored)
        catalog = FunctionCatalog(kv)
        assert catalog.get(stored.id) is None

        assert await catalog.fetch(stored.id) == stored
        assert catalog.get(stored.id) == stored

    run_with_bucket(nats_env, scenario)


def test_fetch_of_an_unknown_or_deleted_id_is_none(nats_env: dict[str, str]) -> None:
    deleted = function(next(_ids))

    async def scenario(kv: KeyValue) -> None:
        await put(kv, deleted)
        await kv.delete(str(deleted.id))
        catalog = FunctionCatalog(kv)

        assert await catalog.fetch(deleted.id) is None
        assert await catalog.fetch(987_654_321) is None

    run_with_bucket(nats_env, scenario)


def test_owned_by_lists_one_owners_functions_sorted_by_id(
    nats_env: dict[str, str],
) -> None:
    owner = f"owner-{next(_ids)}"
    late, early = (
        function(next(_ids) + 100, owner=owner),
        function(next(_ids), owner=owner),
    )
    other = function(next(_ids))

    async def scenario(kv: KeyValue) -> None:
        for value in (late, other, early):
            await put(kv, value)
        catalog = FunctionCatalog(kv)
        await catalog.start()
        try:
            assert catalog.owned_by(owner) == [early, late]
        finally:
            await catalog.close()

    run_with_bucket(nats_env, scenario)


def test_a_forgotten_id_stays_forgotten() -> None:
    """A late echo of an old put must not bring a deleted function back."""
    catalog = FunctionCatalog(kv=None)  # type: ignore[arg-type]
    catalog.remember(function(7))

    catalog.forget(7)
    catalog.remember(function(7))

    assert catalog.get(7) is None


def test_an_older_version_does_not_replace_a_newer_one() -> None:
    catalog = FunctionCatalog(kv=None)  # type: ignore[arg-type]
    newer = function(8, version=3)
    catalog.remember(newer)

    catalog.remember(function(8, version=2))

    assert catalog.get(8) == newer
