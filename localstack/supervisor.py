"""Supervising child processes the way compose's restart policy does."""

import asyncio
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from shared.lifetime import die_with_parent

log = structlog.get_logger(__name__)

_MAX_BACKOFF_S = 10.0
# A child that ran this long before dying is restarted without delay.
_HEALTHY_RUN_S = 30.0


@dataclass
class Child:
    """One supervised process: how to start it and its current incarnation."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff_s: float = field(default=0.5)

    async def spawn(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=dict(self.env),
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.started_at = time.monotonic()
        log.info("child_started", child=self.name, pid=self.process.pid)

    async def terminate(self, *, grace_s: float) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            log.warning("child_killed", child=self.name, pid=process.pid)
            process.kill()
            await process.wait()


class Supervisor:
    """Starts children in order, restarts any that dies, stops them in reverse."""

    def __init__(self, children: Sequence[Child]) -> None:
        self._children = list(children)
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Run until SIGINT or SIGTERM, then stop every child."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._stopping.set)

        watchers = []
        for child in self._children:
            await child.spawn()
            watchers.append(asyncio.create_task(self._watch(child)))

        await self._stopping.wait()
        log.info("stack_stopping")
        for watcher in watchers:
            watcher.cancel()
        for child in reversed(self._children):
            await child.terminate(grace_s=15.0)
        log.info("stack_stopped")

    async def _watch(self, child: Child) -> None:
        while not self._stopping.is_set():
            assert child.process is not None
            code = await child.process.wait()
            if self._stopping.is_set():
                return

            ran_s = time.monotonic() - child.started_at
            if ran_s >= _HEALTHY_RUN_S:
                child.backoff_s = 0.5
            log.error(
                "child_exited",
                child=child.name,
                pid=child.process.pid,
                code=code,
                ran_s=round(ran_s, 1),
                restart_in_s=child.backoff_s,
            )
            await asyncio.sleep(child.backoff_s)
            child.backoff_s = min(child.backoff_s * 2, _MAX_BACKOFF_S)
            child.restarts += 1
            await child.spawn()


def child_env(base: Mapping[str, str], **overrides: str) -> dict[str, str]:
    """The launcher's environment with ``overrides`` applied."""
    env = dict(base)
    env.update(overrides)
    return env


def scrubbed(env: Mapping[str, str], *names: str) -> dict[str, str]:
    """``env`` without the variables in ``names``."""
    return {key: value for key, value in env.items() if key not in names}
