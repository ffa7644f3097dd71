"""A keep-alive HTTP/1.1 load client in plain asyncio, for machines without wrk.

``python -m bench.http_client --url URL --connections C --seconds S --body B
[--header "Name: value"]`` posts the same body over C connections and prints one
JSON line, a :class:`bench.stats.Point`; several such processes share the load.
"""

import argparse
import asyncio
import json
import os
import time
from urllib.parse import urlsplit

import uvloop

from bench.stats import point_from_samples


def _request(url: str, body: bytes, headers: list[str]) -> bytes:
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def run(url: str, connections: int, seconds: float, request: bytes) -> None:
    parts = urlsplit(url)
    samples: list[float] = []
    errors = 0
    until = time.monotonic() + seconds

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.monotonic() < until:
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                samples.append(time.perf_counter() - started)
                errors += status != 200
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(connections)))
    point = point_from_samples(samples, time.monotonic() - started, errors)
    os.write(1, (json.dumps({**point.to_json(), "samples": samples}) + "\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--body", default='{"input": 41}')
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    request = _request(args.url, args.body.encode(), args.header)
    uvloop.run(run(args.url, args.connections, args.seconds, request))


if __name__ == "__main__":
    main()
