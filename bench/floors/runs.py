"""Measuring the floors: a bare Litestar endpoint, NATS request-reply, JetStream."""

import logging
import os
import time
from pathlib import Path

from bench.floors.litestar_app import issue_token
from bench.measure import (
    HIGH,
    LOW,
    Row,
    http_points,
    module_argv,
    run_reporter,
    running,
)
from localstack import nats_server
from tests.harness import JWT_SECRET, Process, free_port, port_open, wait_for

log = logging.getLogger(__name__)

# A server without users or accounts: the floors measure NATS, not its set-up.
_BARE_CONF = """max_payload: 2MB
jetstream {
  max_memory_store: 256MB
  max_file_store: 2GB
}
"""


def http_floor(workdir: Path, seconds: float, *, processes: int) -> list[Row]:
    """The bare endpoint, without and with token verification, in ``processes``."""
    rows = []
    token = issue_token(JWT_SECRET, now=int(time.time()))
    for name, args in (
        ("litestar", []),
        ("litestar + jwt", ["--jwt", JWT_SECRET]),
    ):
        port = free_port()
        argv = module_argv(
            "bench.floors.litestar_app",
            *("--port", str(port), "--processes", str(processes), *args),
        )
        with running("floor-http", argv, workdir, port=port):
            url = f"http://127.0.0.1:{port}/functions/1/execute"
            headers = {"Authorization": f"Bearer {token}"}
            rows.extend(http_points("floor", name, url, headers, seconds))
    return rows


def bare_nats_server(workdir: Path) -> tuple[Process, int]:
    """A nats-server of the platform's binary with no users, and its port."""
    config = workdir / "bare-nats.conf"
    config.write_text(_BARE_CONF)
    port = free_port()
    argv = nats_server.command(
        port=port,
        monitor_port=free_port(),
        store_dir=workdir / "bare-nats-store",
        config=config,
    )
    return Process("bare-nats", argv, os.environ, workdir), port


def nats_floors(workdir: Path, seconds: float, *, batches: bool = False) -> list[Row]:
    """Request-reply, and the JetStream round trip pulled per slot (and in batches).

    The responder keeps as many pulls outstanding as jetfaas's reference stack,
    two executors of one slot per CPU.
    """
    server, port = bare_nats_server(workdir)
    server.start()
    url = f"nats://127.0.0.1:{port}"
    slots = str(2 * (os.cpu_count() or 1))
    kinds = [
        ("nats request-reply", "reply", "reply"),
        ("jetstream, pull per slot", "slots", "jetstream"),
    ]
    if batches:
        kinds.append(("jetstream, pull batches", "batch", "jetstream"))
    try:
        wait_for(lambda: port_open(port), timeout_s=10, what="nats-server")
        rows = []
        for name, responder, requester in kinds:
            argv = module_argv(
                "bench.floors.nats_responder",
                *("--url", url, "--mode", responder, "--slots", slots),
            )
            with running("floor-responder", argv, workdir, ready="ready"):
                for concurrency in (LOW, HIGH):
                    log.info("measuring %s at concurrency %d", name, concurrency)
                    argv = module_argv(
                        "bench.floors.nats_requester",
                        *("--url", url, "--mode", requester),
                        *("--concurrency", str(concurrency), "--seconds", str(seconds)),
                    )
                    point = run_reporter(argv, seconds=seconds)
                    rows.append(Row("floor", name, concurrency, point))
        return rows
    finally:
        server.stop()
