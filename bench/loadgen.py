"""HTTP load from a separate process: wrk when it is on PATH, else Python clients."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.stats import Point, point_from_samples

BODY = '{"input": 41}'
_WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
{headers}
"""
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


_chosen: list[str] = []


def choose(name: str) -> None:
    """Use ``wrk`` or ``python`` from now on, rather than the one found."""
    _chosen[:] = [name]


def generator() -> str:
    """The chosen generator, else ``wrk`` when it is on PATH, else ``python``."""
    if _chosen:
        return _chosen[0]
    return "wrk" if shutil.which("wrk") else "python"


def post_load(
    url: str, *, concurrency: int, seconds: float, headers: dict[str, str]
) -> Point:
    """POST ``BODY`` to ``url`` from ``concurrency`` connections for ``seconds``."""
    if generator() == "wrk":
        return _wrk(url, concurrency, seconds, headers)
    return _python_clients(url, concurrency, seconds, headers)


def _wrk(url: str, concurrency: int, seconds: float, headers: dict[str, str]) -> Point:
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "post.lua"
        script.write_text(_WRK_SCRIPT.format(body=BODY, headers=lines))
        threads = min(concurrency, os.cpu_count() or 1)
        argv = [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        output = subprocess.run(
            argv, capture_output=True, text=True, check=True, timeout=seconds + 30
        ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> Point:
    """The point a ``wrk --latency`` report describes."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if done is None:
        raise ValueError(f"not a wrk report:\n{output}")
    seconds = float(done.group(2)) * _UNITS_MS[done.group(3)] / 1e3
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Point(
        requests=int(done.group(1)),
        seconds=seconds,
        errors=errors,
        p50_ms=_wrk_percentile(output, "50%"),
        p99_ms=_wrk_percentile(output, "99%"),
    )


def _wrk_percentile(output: str, label: str) -> float:
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    if found is None:
        raise ValueError(f"no {label} latency in the wrk report")
    return float(found.group(1)) * _UNITS_MS[found.group(2)]


def _python_clients(
    url: str, concurrency: int, seconds: float, headers: dict[str, str]
) -> Point:
    processes = max(1, min(concurrency, os.cpu_count() or 1))
    shares = [concurrency // processes] * processes
    for index in range(concurrency % processes):
        shares[index] += 1
    header_args = [f"--header={k}: {v}" for k, v in headers.items()]
    clients = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.http_client",
                "--url",
                url,
                "--connections",
                str(share),
                "--seconds",
                str(seconds),
                "--body",
                BODY,
                *header_args,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    samples: list[float] = []
    errors = 0
    elapsed = 0.0
    for client in clients:
        out, _ = client.communicate(timeout=seconds + 30)
        report = json.loads(out)
        samples.extend(report["samples"])
        errors += report["errors"]
        elapsed = max(elapsed, report["seconds"])
    return point_from_samples(samples, elapsed, errors)
