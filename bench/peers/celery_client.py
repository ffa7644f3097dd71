"""C threads each sending ``add_one`` with ``apply_async`` and waiting on ``get``.

Prints one JSON line, a :class:`bench.stats.Point`, on standard output.
"""

import argparse
import itertools
import json
import os
import threading
import time

from bench.peers.celery_tasks import add_one
from bench.stats import point_from_samples

_TIMEOUT_S = 10.0
_WARMUP_S = 1.0


def drive(concurrency: int, seconds: float) -> dict[str, object]:
    numbers = itertools.count()
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    measuring = threading.Event()

    def caller(until: float) -> None:
        nonlocal errors
        while time.monotonic() < until:
            n = next(numbers)
            started = time.perf_counter()
            try:
                correct = add_one.apply_async((n,)).get(timeout=_TIMEOUT_S) == n + 1
            except Exception:
                correct = False
            if measuring.is_set():
                with lock:
                    samples.append(time.perf_counter() - started)
                    errors += not correct

    def run_all(until: float) -> None:
        threads = [
            threading.Thread(target=caller, args=(until,)) for _ in range(concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run_all(time.monotonic() + _WARMUP_S)
    measuring.set()
    started = time.monotonic()
    run_all(started + seconds)
    return point_from_samples(samples, time.monotonic() - started, errors).to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    result = drive(args.concurrency, args.seconds)
    os.write(1, (json.dumps(result) + "\n").encode())


if __name__ == "__main__":
    main()
