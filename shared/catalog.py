"""A local copy of the ``functions`` bucket, kept fresh by a KV watch."""

import asyncio
import contextlib

import msgspec
import structlog
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from shared.models import Function, function_decoder

log = structlog.get_logger(__name__)

_REMOVED = ("DEL", "PURGE")


class FunctionCatalog:
    """Every function definition in memory, so that a call costs no KV round trip.

    The watch delivers the bucket's current values first, then every change.
    Writes made through this process are applied at once with ``remember`` and
    ``forget`` so that a caller reads its own writes before the watch echoes them.
    """

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv
        self._functions: dict[int, Function] = {}
        # Ids are never reused, so a deleted id stays deleted even when an older
        # put of it is still on its way through the watch.
        self._deleted: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the current definitions and follow changes in the background."""
        watcher = await self._kv.watchall()
        loaded = asyncio.Event()
        self._task = asyncio.create_task(self._follow(watcher, loaded))
        await loaded.wait()
        log.info("function_catalog_loaded", functions=len(self._functions))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def get(self, function_id: int) -> Function | None:
        return self._functions.get(function_id)

    async def fetch(self, function_id: int) -> Function | None:
        """Like ``get``, but asks the bucket when the watch has not caught up yet."""
        function = self._functions.get(function_id)
        if function is not None:
            return function
        try:
            entry = await self._kv.get(str(function_id))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        function = function_decoder.decode(entry.value)
        self._functions[function_id] = function
        return function

    def owned_by(self, owner: str) -> list[Function]:
        found = (f for f in self._functions.values() if f.owner == owner)
        return sorted(found, key=lambda f: f.id)

    def remember(self, function: Function) -> None:
        if function.id in self._deleted:
            return
        current = self._functions.get(function.id)
        if current is None or current.version <= function.version:
            self._functions[function.id] = function

    def forget(self, function_id: int) -> None:
        self._deleted.add(function_id)
        self._functions.pop(function_id, None)

    async def _follow(
        self, watcher: KeyValue.KeyWatcher, loaded: asyncio.Event
    ) -> None:
        async for entry in watcher:
            if entry is None:
                loaded.set()
                continue
            self._apply(entry)
        loaded.set()

    def _apply(self, entry: KeyValue.Entry) -> None:
        try:
            function_id = int(entry.key)
        except ValueError:
            log.warning("function_catalog_bad_key", key=entry.key)
            return

        if entry.operation in _REMOVED or not entry.value:
            self.forget(function_id)
            return

        try:
            self.remember(function_decoder.decode(entry.value))
        except msgspec.DecodeError:
            log.exception("function_catalog_bad_value", function_id=function_id)
