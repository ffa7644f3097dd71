"""Where the gateway and one executor spend their time under load, sampled by py-spy.

``python -m bench.profile`` starts a stack of two executors, loads execute at
concurrency 64, records both processes with ``py-spy record -f raw`` and prints
the functions with the most samples, by own time and including callees.
py-spy is not a dependency: ``.venv/bin/pip install py-spy`` first.
"""

import argparse
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import httpx

from bench import loadgen
from bench.jetfaas import create_function, login
from shared.settings import load_settings
from tests.harness import Stack

_FRAME_LINE = re.compile(r":\d+\)$")
RATE = 200
"""Samples per second."""


def aggregate(raw: str) -> tuple[Counter[str], Counter[str], int]:
    """Own and inclusive samples per function of ``py-spy -f raw`` output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_FRAME_LINE.sub(")", frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    return own, inclusive, total


def summary(name: str, raw: str, top: int, *, expected: float) -> str:
    """The top functions; idle samples are not recorded, so samples over
    ``expected`` (rate times duration) is how busy the process was."""
    own, inclusive, total = aggregate(raw)
    # The frames every sample shares (runpy, the entry point, the event loop)
    # say nothing; below them the split starts.
    root = max(inclusive.values(), default=0)
    below = Counter({f: n for f, n in inclusive.items() if n < root})
    lines = [f"{name}: {total} samples, busy {total / expected:.0%} of one core"]
    for title, counter in (("own", own), ("including callees", below)):
        lines.append(f"  top by {title}:")
        for frame, samples in counter.most_common(top):
            lines.append(f"    {samples / max(total, 1):6.1%}  {frame}")
    return "\n".join(lines)


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    argv = [py_spy, "record", "-p", str(pid), "-d", f"{seconds:g}", "-r", str(RATE)]
    return subprocess.Popen(
        [*argv, "-f", "raw", "-o", str(output), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    # The platform's defaults: one slot per CPU, the configured gateway processes;
    # with several, py-spy records the first one only.
    workers = load_settings().http_workers
    env = {"FAAS_EXECUTOR_SLOTS": "0", "FAAS_HTTP_WORKERS": str(workers)}
    with tempfile.TemporaryDirectory(prefix="jetfaas-profile-") as scratch:
        workdir = Path(scratch)
        with (
            Stack(workdir, executors=2, env=env) as stack,
            httpx.Client(base_url=stack.base_url, timeout=30) as api,
        ):
            headers = login(api)
            url = f"{stack.base_url}/functions/{create_function(api, headers)}/execute"
            loadgen.post_load(url, concurrency=64, seconds=1, headers=headers)

            point: list[object] = []
            load = threading.Thread(
                target=lambda: point.append(
                    loadgen.post_load(
                        url, concurrency=64, seconds=args.seconds + 1, headers=headers
                    )
                )
            )
            load.start()
            targets = {"gateway": stack.gateway, "executor-1": stack.executors[0]}
            recorders = {
                name: (record(p.pid, args.seconds, workdir / name), workdir / name)
                for name, p in targets.items()
            }
            for recorder, _ in recorders.values():
                recorder.wait(timeout=args.seconds + 30)
            load.join()
            sys.stdout.write(f"load: {point[0]}\n\n")
            for name, (_, path) in recorders.items():
                raw = path.read_text() if path.exists() else ""
                text = summary(name, raw, args.top, expected=RATE * args.seconds)
                sys.stdout.write(text + "\n\n")


if __name__ == "__main__":
    main()
