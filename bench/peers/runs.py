"""Measuring the optional Celery peer: a worker with a Redis broker on loopback."""

import importlib.util
import logging
import os
import shutil
from pathlib import Path

from bench.measure import HIGH, LOW, Row, module_argv, run_reporter, running
from tests.harness import Process, free_port, port_open, wait_for

log = logging.getLogger(__name__)


def celery_unavailable() -> str | None:
    """Why the Celery peer cannot run here, or None when it can."""
    for module in ("celery", "redis"):
        if importlib.util.find_spec(module) is None:
            return f"python package {module} not installed (make bench-peers)"
    if shutil.which("redis-server") is None:
        return "redis-server not on PATH (apt-get install redis-server)"
    return None


def celery_peer(workdir: Path, seconds: float) -> list[Row]:
    """``add_one`` through Celery, at the same concurrencies as jetfaas."""
    port = free_port()
    redis = Process(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        os.environ,
        workdir,
    )
    redis.start()
    env = {**os.environ, "BENCH_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    try:
        wait_for(lambda: port_open(port), timeout_s=10, what="redis-server")
        worker = module_argv(
            "celery",
            "--app",
            "bench.peers.celery_tasks",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(os.cpu_count() or 1),
            "--loglevel",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        )
        rows = []
        with running("celery-worker", worker, workdir, ready="ready.", env=env):
            for concurrency in (LOW, HIGH):
                log.info("measuring celery at concurrency %d", concurrency)
                point = run_reporter(
                    module_argv(
                        "bench.peers.celery_client",
                        "--concurrency",
                        str(concurrency),
                        "--seconds",
                        str(seconds),
                    ),
                    seconds=seconds,
                    env=env,
                )
                rows.append(Row("peer", "celery + redis", concurrency, point))
        return rows
    finally:
        redis.stop()
