"""The answering side of the NATS floors, as its own process.

``reply``: a core NATS subscription that answers each request.
``jetstream``: a work-queue stream and a durable pull consumer; each message is
answered on the inbox named in its ``Faas-Reply-To`` header, then acknowledged,
in the order an executor does it.
"""

import argparse
import asyncio
import contextlib
import os
import signal
from typing import Any

import msgspec
import nats
import uvloop
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

ECHO_SUBJECT = "bench.echo"
STREAM = "BENCH_INVOCATIONS"
SUBJECTS = "bench.invoke.>"
CONSUMER = "bench_workers"
REPLY_TO_HEADER = "Faas-Reply-To"
_PULL_EXPIRES_S = 20.0
_BATCH_WAIT_S = 0.005


class Request(msgspec.Struct):
    input: Any


_decoder = msgspec.json.Decoder(Request)
_encoder = msgspec.json.Encoder()


def answer(data: bytes) -> bytes:
    """``{"result": input + 1}`` for ``{"input": n}``."""
    return _encoder.encode({"result": _decoder.decode(data).input + 1})


async def ensure_stream(js: JetStreamContext) -> None:
    """A fresh work-queue stream and consumer configured like the invocations one."""
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_stream(STREAM)
    await js.add_stream(
        api.StreamConfig(
            name=STREAM,
            subjects=[SUBJECTS],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            max_msgs=100_000,
            discard=api.DiscardPolicy.NEW,
            duplicate_window=120.0,
        )
    )
    await js.add_consumer(
        STREAM,
        config=api.ConsumerConfig(
            durable_name=CONSUMER,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=6.0,
            max_ack_pending=4096,
            max_waiting=4096,
            filter_subject=SUBJECTS,
        ),
    )


async def _reply(nc: Client) -> None:
    async def respond(msg: Msg) -> None:
        await msg.respond(answer(msg.data))

    await nc.subscribe(ECHO_SUBJECT, cb=respond)


async def _handle(nc: Client, msg: Msg) -> None:
    reply_to = (msg.headers or {}).get(REPLY_TO_HEADER)
    if reply_to:
        await nc.publish(reply_to, answer(msg.data))
    await msg.ack()


_tasks: set[asyncio.Task[None]] = set()
"""The pull loops, kept referenced until the process exits."""


async def _pull_one_per_slot(nc: Client, js: JetStreamContext, slots: int) -> None:
    async def loop() -> None:
        sub = await js.pull_subscribe_bind(durable=CONSUMER, stream=STREAM)
        while True:
            try:
                messages = await sub.fetch(1, timeout=_PULL_EXPIRES_S)
            except nats.errors.TimeoutError:
                continue
            for msg in messages:
                await _handle(nc, msg)

    for _ in range(slots):
        _tasks.add(asyncio.create_task(loop()))


async def _pull_batches(nc: Client, js: JetStreamContext, slots: int) -> None:
    async def loop() -> None:
        sub = await js.pull_subscribe_bind(durable=CONSUMER, stream=STREAM)
        while True:
            try:
                messages = await sub.fetch(slots, timeout=_BATCH_WAIT_S)
            except nats.errors.TimeoutError:
                continue
            await asyncio.gather(*(_handle(nc, msg) for msg in messages))

    _tasks.add(asyncio.create_task(loop()))


async def serve(url: str, mode: str, slots: int) -> None:
    nc = await nats.connect(url, name="bench-responder")
    if mode == "reply":
        await _reply(nc)
    else:
        js = nc.jetstream()
        await ensure_stream(js)
        pull = _pull_batches if mode == "batch" else _pull_one_per_slot
        await pull(nc, js, slots)

    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    # The requester waits for this line before it starts.
    os.write(1, b"ready\n")
    await stopped.wait()
    await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=["reply", "slots", "batch"], required=True)
    parser.add_argument("--slots", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    uvloop.run(serve(args.url, args.mode, args.slots))


if __name__ == "__main__":
    main()
