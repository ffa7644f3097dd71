"""The machine, the table of points, the ratios to the floors, as text and JSON."""

import importlib.metadata
import os
import platform
import statistics
import subprocess
from typing import Any

from bench.measure import HIGH, LOW, Row
from localstack import nats_server

_LIBRARIES = ("litestar", "uvicorn", "nats-py", "msgspec", "pyjwt", "uvloop")


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    server = subprocess.run(
        [nats_server.binary(), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    versions = {name: importlib.metadata.version(name) for name in _LIBRARIES}
    return {
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "nats-server": server.removeprefix("nats-server: "),
        **versions,
    }


def table(rows: list[Row]) -> str:
    """One line per point: rate, latency percentiles, errors."""
    lines = [
        f"{'group':<8}{'measure':<28}{'c':>4}{'req/s':>10}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    ]
    for row in rows:
        p = row.point
        lines.append(
            f"{row.group:<8}{row.name:<28}{row.concurrency:>4}{p.rate:>10,.0f}"
            f"{p.p50_ms:>9.2f}{p.p99_ms:>9.2f}{p.errors:>8}"
        )
    return "\n".join(lines)


def _find(rows: list[Row], name: str, concurrency: int) -> Row | None:
    return next(
        (r for r in rows if r.name == name and r.concurrency == concurrency), None
    )


def ratios(rows: list[Row], reference: str) -> list[dict[str, Any]]:
    """jetfaas at ``reference`` against each floor and peer.

    ``throughput`` is jetfaas's rate over the other's at high concurrency;
    ``latency`` is jetfaas's p50 over the other's at concurrency 1.
    """
    ours_low = _find(rows, reference, LOW)
    ours_high = _find(rows, reference, HIGH)
    if ours_low is None or ours_high is None:
        return []
    found = []
    for name in dict.fromkeys(r.name for r in rows if r.group != "jetfaas"):
        low, high = _find(rows, name, LOW), _find(rows, name, HIGH)
        # A point with errors measured something else than the floor.
        if low is None or high is None or low.point.errors or high.point.errors:
            continue
        found.append(
            {
                "against": name,
                "throughput": ours_high.point.rate / high.point.rate,
                "latency": ours_low.point.p50_ms / low.point.p50_ms,
            }
        )
    return found


def ratio_lines(found: list[dict[str, Any]], reference: str) -> str:
    lines = [
        f"jetfaas ({reference}) against each: req/s at c={HIGH} as a fraction, "
        f"p50 at c={LOW} as a multiple"
    ]
    for ratio in found:
        lines.append(
            f"  {ratio['against']:<28}{ratio['throughput']:>7.2f} of its req/s"
            f"{ratio['latency']:>8.1f}x its p50"
        )
    return "\n".join(lines)


def scaling_lines(rows: list[Row]) -> str:
    """jetfaas's rate at high concurrency by executor count, against one executor."""
    ours = [r for r in rows if r.group == "jetfaas" and r.concurrency == HIGH]
    if not ours:
        return ""
    base = ours[0].point.rate
    parts = [
        f"{r.name}: {r.point.rate:,.0f}/s ({r.point.rate / base:.2f}x)" for r in ours
    ]
    return "executor scaling at c=64: " + ", ".join(parts)


def cold_line(samples: list[float]) -> str:
    if not samples:
        return "cold start: not measured"
    cuts = sorted(samples)
    return (
        f"cold start (first execution of a new function, {len(samples)} functions): "
        f"p50 {statistics.median(cuts) * 1e3:.1f} ms, max {cuts[-1] * 1e3:.1f} ms"
    )
