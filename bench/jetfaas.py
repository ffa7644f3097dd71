"""Measuring jetfaas itself: a real stack on free ports, with 1, 2 and 4 executors."""

import logging
import time
from pathlib import Path

import httpx

from bench.measure import Row, http_points
from tests.harness import Stack

log = logging.getLogger(__name__)

EXECUTOR_COUNTS = (1, 2, 4)
COLD_STARTS = 30
CODE = "return input + 1"
# FAAS_EXECUTOR_SLOTS=0 is the platform's default: one slot per CPU.
_DEFAULT_SLOTS = "0"


def login(api: httpx.Client) -> dict[str, str]:
    """Register a new user and return its Authorization header."""
    credentials = {"username": f"bench{time.time_ns()}", "password": "bench-pass-1"}
    api.post("/auth/register", json=credentials).raise_for_status()
    token = api.post("/auth/login", json=credentials).raise_for_status().json()
    return {"Authorization": f"Bearer {token['token']}"}


def create_function(api: httpx.Client, headers: dict[str, str]) -> int:
    """Register ``CODE`` and return the new function's id."""
    created = api.post("/functions", json={"code": CODE}, headers=headers)
    function_id: int = created.raise_for_status().json()["id"]
    return function_id


def _cold_starts(api: httpx.Client, headers: dict[str, str]) -> list[float]:
    """Seconds from sending to answer of each new function's first execution."""
    samples = []
    for _ in range(COLD_STARTS):
        function_id = create_function(api, headers)
        started = time.perf_counter()
        answer = api.post(
            f"/functions/{function_id}/execute", json={"input": 41}, headers=headers
        )
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200 or answer.json() != {"result": 42}:
            raise RuntimeError(
                f"cold start answered {answer.status_code}: {answer.text}"
            )
    return samples


def measure(
    workdir: Path,
    seconds: float,
    rows: list[Row],
    cold: list[float],
    *,
    processes: int,
) -> str:
    """Add the execute points at each executor count to ``rows``, and cold starts
    at two executors to ``cold``; return what the gateway logged of lost replies."""
    env = {"FAAS_EXECUTOR_SLOTS": _DEFAULT_SLOTS, "FAAS_HTTP_WORKERS": str(processes)}
    with (
        Stack(workdir, executors=1, env=env) as stack,
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
    ):
        headers = login(api)
        url = f"{stack.base_url}/functions/{create_function(api, headers)}/execute"
        for count in EXECUTOR_COUNTS:
            while len(stack.executors) < count:
                executor = stack.add_executor()
                executor.start()
                stack.wait_executor_ready(executor)
            name = f"{count} executor" + ("s" if count > 1 else "")
            rows.extend(http_points("jetfaas", name, url, headers, seconds))
            if count == 2:
                log.info("measuring %d cold starts", COLD_STARTS)
                cold.extend(_cold_starts(api, headers))
        unclaimed = stack.gateway.output().count('"invocation_reply_unclaimed"')
    return f"jetfaas: {unclaimed} replies logged as invocation_reply_unclaimed"
