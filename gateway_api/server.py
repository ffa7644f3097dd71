"""Serving the gateway app with uvicorn, in one process or several sharing a port."""

import asyncio
import contextlib
import os
import signal
import socket
import sys

import structlog
import uvicorn

from gateway_api.app import create_app, open_gateway
from shared.lifetime import die_with_parent
from shared.settings import Settings

log = structlog.get_logger(__name__)

# Set in the processes a gateway starts, so that they serve instead of spawning.
_WORKER_ENV = "FAAS_HTTP_WORKER_OF"
_RESPAWN_DELAY_S = 1.0
# APISIX keeps idle upstream connections for 60 s. Were the gateway to close
# them sooner, a request sent just as one closes would be lost with it.
_KEEP_ALIVE_S = 75


async def run(settings: Settings) -> None:
    """Serve until a signal stops uvicorn, then drain NATS.

    With FAAS_HTTP_WORKERS above one, this process also starts the other
    workers, each a whole gateway with its own socket on the same port: the
    kernel spreads connections between them.
    """
    if settings.http_workers == 1:
        await _serve(settings, reuse_port=False)
        return

    workers = asyncio.create_task(_keep_workers(settings.http_workers - 1))
    try:
        await _serve(settings, reuse_port=True)
    finally:
        workers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await workers


async def _serve(settings: Settings, *, reuse_port: bool) -> None:
    sock = _listen(settings.http_host, settings.http_port, reuse_port=reuse_port)
    async with open_gateway(settings) as gateway:
        config = uvicorn.Config(
            create_app(settings, gateway),
            loop="none",
            http="httptools",
            access_log=False,
            log_config=None,
            # APISIX, not the gateway, deals with clients' addresses.
            proxy_headers=False,
            timeout_keep_alive=_KEEP_ALIVE_S,
            server_header=False,
        )
        await uvicorn.Server(config).serve(sockets=[sock])


def _listen(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port or os.environ.get(_WORKER_ENV):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(False)
    return sock


async def _keep_workers(count: int) -> None:
    """Run ``count`` more gateway processes, starting again any that dies."""
    env = {**os.environ, "FAAS_HTTP_WORKERS": "1", _WORKER_ENV: str(os.getpid())}
    argv = [sys.executable, "-m", "gateway_api"]
    exits: dict[asyncio.Task[int], asyncio.subprocess.Process] = {}
    try:
        while True:
            for _ in range(count - len(exits)):
                process = await asyncio.create_subprocess_exec(
                    *argv, env=env, preexec_fn=die_with_parent
                )
                exits[asyncio.create_task(process.wait())] = process
                log.info("gateway_worker_started", pid=process.pid)

            done, _ = await asyncio.wait(exits, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                process = exits.pop(task)
                log.error("gateway_worker_exited", pid=process.pid, code=task.result())
            await asyncio.sleep(_RESPAWN_DELAY_S)
    finally:
        for process in exits.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        await asyncio.gather(*exits, return_exceptions=True)
