"""Sandbox costs: warm call overhead, cold start, memory per warm worker.

Run with ``.venv/bin/python -m bench.sandbox_bench``; ratios compare with a bare
in-process call of the same function (decode input, call, encode result).
"""

import asyncio
import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from executors.sandbox import Sandbox, SandboxLimits
from shared.code import compile_function
from shared.models import Function

CODE = "return input + 1"
WARM_CALLS = 5_000
COLD_STARTS = 200
WARM_POOL = 16


def function(function_id: int) -> Function:
    return Function(
        id=function_id,
        owner="bench",
        name="plus_one",
        code=CODE,
        timeout_ms=5_000,
        memory_mb=128,
        created_at=0.0,
        updated_at=0.0,
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99, in milliseconds."""
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1e3, cuts[98] * 1e3


def bare_call_samples() -> list[float]:
    namespace: dict[str, Any] = {}
    exec(compile_function(CODE), namespace)
    handler: Callable[[Any], Any] = namespace["handler"]
    samples = []
    for _ in range(WARM_CALLS):
        started = time.perf_counter()
        msgspec.json.encode(handler(msgspec.json.decode(b"41")))
        samples.append(time.perf_counter() - started)
    return samples


async def warm_samples(sandbox: Sandbox) -> list[float]:
    plus_one = function(1)
    await sandbox.run(plus_one, b"41", timeout_s=5)
    samples = []
    for _ in range(WARM_CALLS):
        started = time.perf_counter()
        outcome = await sandbox.run(plus_one, b"41", timeout_s=5)
        samples.append(time.perf_counter() - started)
        assert outcome.result == b"42", outcome
    return samples


async def cold_samples(sandbox: Sandbox, first_id: int) -> list[float]:
    samples = []
    for function_id in range(first_id, first_id + COLD_STARTS):
        # Give the spare pool the pause a real cold start would follow.
        await asyncio.sleep(0.005)
        started = time.perf_counter()
        outcome = await sandbox.run(function(function_id), b"41", timeout_s=5)
        samples.append(time.perf_counter() - started)
        assert outcome.result == b"42", outcome
    return samples


async def memory_per_worker() -> float:
    sandbox = Sandbox(SandboxLimits(warm_workers=WARM_POOL, spare_workers=0))
    await sandbox.start()
    try:
        for function_id in range(WARM_POOL):
            await sandbox.run(function(function_id), b"41", timeout_s=5)
        stats = sandbox.stats()
        return stats.memory_bytes / stats.warm_workers
    finally:
        await sandbox.close()


async def measure() -> list[tuple[str, float, float]]:
    bare_p50, bare_p99 = percentiles(bare_call_samples())
    rows = [("bare in-process call", bare_p50, bare_p99)]

    sandbox = Sandbox(SandboxLimits(warm_workers=8, spare_workers=2))
    await sandbox.start()
    try:
        rows.append(("warm call", *percentiles(await warm_samples(sandbox))))
        rows.append(
            ("cold start, spares", *percentiles(await cold_samples(sandbox, 1_000)))
        )
    finally:
        await sandbox.close()

    forking = Sandbox(SandboxLimits(warm_workers=8, spare_workers=0))
    await forking.start()
    try:
        rows.append(
            ("cold start, fork", *percentiles(await cold_samples(forking, 2_000)))
        )
    finally:
        await forking.close()
    return rows


def main() -> None:
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )
    rows = asyncio.run(measure())
    bare_p50 = rows[0][1]
    print(f"{'measure':<24}{'p50 ms':>10}{'p99 ms':>10}{'p50 / bare':>12}")
    for name, p50, p99 in rows:
        print(f"{name:<24}{p50:>10.4f}{p99:>10.4f}{p50 / bare_p50:>12.0f}")
    warm_p50, warm_p99 = rows[1][1] - bare_p50, rows[1][2] - rows[0][2]
    print(f"warm overhead: p50 {warm_p50:.3f} ms, p99 {warm_p99:.3f} ms")

    memory = asyncio.run(memory_per_worker())
    print(f"memory per warm worker (PSS): {memory / 1_048_576:.2f} MiB")


if __name__ == "__main__":
    main()
