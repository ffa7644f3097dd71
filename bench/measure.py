"""Named measurements collected by a run, and the child processes they need."""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen
from bench.stats import Point
from tests.harness import Process, port_open, wait_for

log = logging.getLogger(__name__)

LOW, HIGH = 1, 64
"""The two concurrencies of every point: latency alone, and throughput."""


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, at which concurrency."""

    group: str
    name: str
    concurrency: int
    point: Point


@contextmanager
def running(
    name: str,
    argv: list[str],
    workdir: Path,
    *,
    ready: str | None = None,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Process]:
    """A child process for the duration of the block, stopped by its pid after.

    The block starts once ``ready`` is in its output and ``port`` accepts.
    """
    process = Process(name, argv, os.environ if env is None else env, workdir)
    process.start()

    def is_ready() -> bool:
        if not process.alive():
            raise RuntimeError(f"{name} exited:\n{process.output()}")
        if ready is not None and ready not in process.output():
            return False
        return port is None or port_open(port)

    try:
        wait_for(is_ready, timeout_s=20, what=name)
        yield process
    finally:
        process.stop()


def module_argv(module: str, *args: str) -> list[str]:
    """``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_reporter(
    argv: list[str], *, seconds: float, env: Mapping[str, str] | None = None
) -> Point:
    """Run a client process that prints one JSON point, and read it."""
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[2]} failed:\n{done.stderr[-2000:]}")
    return Point.from_json(json.loads(done.stdout.strip().splitlines()[-1]))


def http_points(
    group: str, name: str, url: str, headers: dict[str, str], seconds: float
) -> list[Row]:
    """POST load on ``url`` at each concurrency, after a one-second warm-up."""
    rows = []
    for concurrency in (LOW, HIGH):
        log.info("measuring %s %s at concurrency %d", group, name, concurrency)
        # A short unrecorded run first, so that connections, warm sandbox
        # workers and caches exist before the measured one.
        loadgen.post_load(url, concurrency=concurrency, seconds=1, headers=headers)
        point = loadgen.post_load(
            url, concurrency=concurrency, seconds=seconds, headers=headers
        )
        rows.append(Row(group, name, concurrency, point))
    return rows
