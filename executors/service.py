"""The executor's composition root: sandbox first, then NATS, then pulling."""

import asyncio
import contextlib
import signal

import structlog
from prometheus_client import start_http_server

from executors import metrics
from executors.consumer import Consumer
from executors.runner import Runner
from executors.sandbox import (
    Sandbox,
    SandboxLimits,
    SandboxStats,
    SandboxUnavailableError,
)
from shared import names
from shared.catalog import FunctionCatalog
from shared.connection import connect, wait_for_resources
from shared.settings import Settings

log = structlog.get_logger(__name__)

_SANDBOX_REPORT_S = 5.0


def sandbox_limits(settings: Settings) -> SandboxLimits:
    return SandboxLimits(
        max_result_bytes=settings.max_result_bytes,
        max_log_bytes=settings.max_log_bytes,
        warm_workers=settings.warm_workers,
        max_memory_mb=settings.max_memory_mb,
        scratch_root=settings.scratch_dir,
    )


async def run(settings: Settings) -> None:
    """Serve invocations until SIGTERM or SIGINT, then drain and disconnect.

    The sandbox starts before anything connects, so that its clean zygote
    never holds a socket or a credential of the executor.
    """
    sandbox = Sandbox(sandbox_limits(settings))
    await sandbox.start()
    try:
        await _serve(settings, sandbox)
    finally:
        await sandbox.close()


async def _serve(settings: Settings, sandbox: Sandbox) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.http_host)
    metrics.SLOTS.set(settings.slots)

    nc = await connect(settings, name="executor")
    try:
        js = nc.jetstream()
        await wait_for_resources(js)
        catalog = FunctionCatalog(await js.key_value(names.FUNCTIONS_BUCKET))
        await catalog.start()
        results = await js.key_value(names.INVOCATIONS_BUCKET)
        runner = Runner(nc, catalog, results, sandbox, settings)
        consumer = Consumer(nc, runner.handle, slots=settings.slots)
        await consumer.start()
        reporting = asyncio.create_task(_report_sandbox(sandbox))
        log.info(
            "executor_started", slots=settings.slots, metrics_port=settings.metrics_port
        )

        lost = await _wait_for_stop_or_loss(stop, sandbox)
        log.info("executor_stopping", sandbox_lost=lost)
        await consumer.stop(grace_s=settings.max_timeout_ms / 1000)
        reporting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporting
        await catalog.close()
    finally:
        await nc.drain()

    if lost:
        raise SandboxUnavailableError("the sandbox's zygote died")


async def _wait_for_stop_or_loss(stop: asyncio.Event, sandbox: Sandbox) -> bool:
    """Wait for a stop signal or the loss of the sandbox; True for the latter.

    A zygote cannot be restarted from a process that already holds secrets, so
    the executor stops and leaves the restart to its supervisor.
    """
    stopping = asyncio.create_task(stop.wait())
    losing = asyncio.create_task(sandbox.wait_lost())
    done, pending = await asyncio.wait(
        {stopping, losing}, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return losing in done


async def _report_sandbox(sandbox: Sandbox) -> None:
    """Sample the pool from the event loop that owns it, not the metrics thread."""
    previous: SandboxStats | None = None
    while True:
        stats = sandbox.stats()
        metrics.report_sandbox(stats, previous)
        previous = stats
        await asyncio.sleep(_SANDBOX_REPORT_S)
