"""Steady load for JETFAAS_SOAK_SECONDS: memory stays flat, every call answered."""

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.api import create_function, execute, register
from tests.faults.probes import Load, assert_every_call_accounted_for, report, rss_kib
from tests.harness import Stack

_SECONDS = float(os.environ.get("JETFAAS_SOAK_SECONDS", "30"))
_SAMPLE_S = 2.0
# Growth allowed after warm-up: a quarter of the warm size plus 32 MiB.
_GROWTH = 1.25
_SLACK_KIB = 32 * 1024


@pytest.mark.soak
@pytest.mark.slow
@pytest.mark.timeout(_SECONDS + 300)
def test_memory_stays_flat_and_every_call_is_answered_under_steady_load(
    tmp_path: Path,
) -> None:
    with Stack(tmp_path, executors=2) as stack:
        api = httpx.Client(base_url=stack.base_url, timeout=30)
        account = register(api)
        function_id = create_function(api, account, "return input + 1")
        processes = [stack.gateway, *stack.executors]
        samples: list[list[int]] = []

        with Load(stack.base_url, account, function_id, clients=3) as load:
            ends = time.monotonic() + _SECONDS
            while time.monotonic() < ends:
                samples.append([rss_kib(p.pid) for p in processes])
                time.sleep(_SAMPLE_S)
            assert all(p.alive() for p in processes)

        calls = load.calls
        assert_every_call_accounted_for(calls, longest_s=20)
        assert all(call.status == 200 for call in calls)
        assert execute(api, account, function_id, -1).json() == {"result": 0}

        warm = samples[len(samples) // 3]
        for sample in samples[len(samples) // 3 :]:
            for name, now, base in zip(
                (p.name for p in processes), sample, warm, strict=True
            ):
                assert now <= base * _GROWTH + _SLACK_KIB, (name, base, now)
        report(
            "soak",
            seconds=_SECONDS,
            calls=len(calls),
            rss_kib_warm=dict(zip((p.name for p in processes), warm, strict=True)),
            rss_kib_last=dict(
                zip((p.name for p in processes), samples[-1], strict=True)
            ),
        )
