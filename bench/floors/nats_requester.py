"""The asking side of the NATS floors: C concurrent requests for a fixed time.

Prints one JSON line, a :class:`bench.stats.Point`, on standard output.
"""

import argparse
import asyncio
import itertools
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable

import msgspec
import nats
import uvloop
from nats.aio.client import Client
from nats.aio.msg import Msg

from bench.floors.nats_responder import ECHO_SUBJECT, REPLY_TO_HEADER
from bench.stats import point_from_samples

_TIMEOUT_S = 10.0
_WARMUP_S = 1.0

Call = Callable[[int], Awaitable[bool]]


def _expected(n: int) -> bytes:
    return msgspec.json.encode({"result": n + 1})


def request_reply(nc: Client) -> Call:
    async def call(n: int) -> bool:
        reply = await nc.request(
            ECHO_SUBJECT, msgspec.json.encode({"input": n}), timeout=_TIMEOUT_S
        )
        return reply.data == _expected(n)

    return call


async def jetstream_round_trip(nc: Client) -> Call:
    """Publish with ack, then wait on one wildcard inbox, as the gateway does."""
    js = nc.jetstream()
    inbox = f"_INBOX.bench{uuid.uuid4().hex[:8]}."
    waiting: dict[str, asyncio.Future[bytes]] = {}

    async def on_reply(msg: Msg) -> None:
        future = waiting.pop(msg.subject[len(inbox) :], None)
        if future is not None and not future.done():
            future.set_result(msg.data)

    await nc.subscribe(inbox + "*", cb=on_reply)
    loop = asyncio.get_running_loop()

    async def call(n: int) -> bool:
        token = uuid.uuid4().hex
        future: asyncio.Future[bytes] = loop.create_future()
        waiting[token] = future
        headers = {"Nats-Msg-Id": token, REPLY_TO_HEADER: inbox + token}
        try:
            await js.publish(
                "bench.invoke.1",
                msgspec.json.encode({"input": n}),
                headers=headers,
                timeout=_TIMEOUT_S,
            )
            return await asyncio.wait_for(future, _TIMEOUT_S) == _expected(n)
        finally:
            waiting.pop(token, None)

    return call


async def drive(call: Call, concurrency: int, seconds: float) -> dict[str, object]:
    """Run ``concurrency`` callers for a warm-up, then for ``seconds`` measured."""
    numbers = itertools.count()
    samples: list[float] = []
    errors = 0
    measuring = False

    async def caller(until: float) -> None:
        nonlocal errors
        while time.monotonic() < until:
            n = next(numbers)
            started = time.perf_counter()
            try:
                correct = await call(n)
            except Exception:
                correct = False
            if measuring:
                samples.append(time.perf_counter() - started)
                errors += not correct

    await asyncio.gather(
        *(caller(time.monotonic() + _WARMUP_S) for _ in range(concurrency))
    )
    measuring = True
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(caller(until) for _ in range(concurrency)))
    point = point_from_samples(samples, time.monotonic() - started, errors)
    return point.to_json()


async def run(url: str, mode: str, concurrency: int, seconds: float) -> None:
    nc = await nats.connect(url, name="bench-requester")
    try:
        if mode == "reply":
            call = request_reply(nc)
        else:
            call = await jetstream_round_trip(nc)
        result = await drive(call, concurrency, seconds)
    finally:
        await nc.close()
    os.write(1, (json.dumps(result) + "\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=["reply", "jetstream"], required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    uvloop.run(run(args.url, args.mode, args.concurrency, args.seconds))


if __name__ == "__main__":
    main()
