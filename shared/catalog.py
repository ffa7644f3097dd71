"""A local copy of the ``functions`` bucket, kept fresh by a KV watch."""

import asyncio
import contextlib

import msgspec
import nats.errors
import structlog
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from shared.models import Function, function_decoder

log = structlog.get_logger(__name__)

_REMOVED = ("DEL", "PURGE")
# How often the watch is checked against the bucket. Its consumer lives in one
# server's memory: a restarted or lost server drops it silently, and nats-py
# notices only after two missed heartbeats, 10 to 20 s of stale functions.
_WATCH_CHECK_S = 1.0


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
        self._revision = 0
        self._watcher: KeyValue.KeyWatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._checker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the current definitions and follow changes in the background."""
        await self._watch()
        log.info("function_catalog_loaded", functions=len(self._functions))
        self._checker = asyncio.create_task(self._check_watch())

    async def close(self) -> None:
        for task in (self._checker, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

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

    async def _watch(self) -> None:
        """Start a new watch, replacing the current one once it has loaded."""
        watcher = await self._kv.watchall()
        loaded = asyncio.Event()
        task = asyncio.create_task(self._follow(watcher, loaded))
        await loaded.wait()

        old_task, old_watcher = self._task, self._watcher
        self._task, self._watcher = task, watcher
        if old_task is not None:
            old_task.cancel()
        if old_watcher is not None:
            with contextlib.suppress(nats.errors.Error):
                await old_watcher.stop()  # type: ignore[no-untyped-call]

    async def _check_watch(self) -> None:
        """Restart the watch when it misses a change the bucket had a check ago."""
        expected = 0
        while True:
            await asyncio.sleep(_WATCH_CHECK_S)
            try:
                if self._revision < expected:
                    log.warning(
                        "function_catalog_rewatched",
                        revision=self._revision,
                        expected=expected,
                    )
                    await self._watch()
                status = await self._kv.status()
            except nats.errors.Error as exc:
                log.warning("function_catalog_check_failed", error=repr(exc))
                continue
            expected = status.stream_info.state.last_seq

    async def _follow(
        self, watcher: KeyValue.KeyWatcher, loaded: asyncio.Event
    ) -> None:
        async for entry in watcher:
            if entry is None:
                loaded.set()
                continue
            self._revision = max(self._revision, entry.revision or 0)
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
