"""Load a running jetfaas with synchronous invocations and print latency figures.

python -m bench.invoke_load --url http://127.0.0.1:9080 --calls 1000 --concurrency 32
"""

import argparse
import asyncio
import statistics
import time
import uuid

import httpx


async def _prepare(http: httpx.AsyncClient) -> tuple[dict[str, str], int]:
    credentials = {
        "username": f"bench-{uuid.uuid4().hex[:8]}",
        "password": "bench-pass",
    }
    (await http.post("/auth/register", json=credentials)).raise_for_status()
    login = await http.post("/auth/login", json=credentials)
    headers = {"Authorization": f"Bearer {login.raise_for_status().json()['token']}"}
    created = await http.post(
        "/functions", json={"code": "return input + 1"}, headers=headers
    )
    return headers, created.raise_for_status().json()["id"]


async def _run(url: str, calls: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        headers, function_id = await _prepare(http)
        path = f"/functions/{function_id}/execute"
        latencies: list[float] = []
        errors = 0
        remaining = iter(range(calls))

        async def client() -> None:
            nonlocal errors
            for n in remaining:
                started = time.perf_counter()
                response = await http.post(path, json={"input": n}, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or response.json() != {"result": n + 1}:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started

    quantiles = statistics.quantiles(latencies, n=100)
    print(f"calls={calls} concurrency={concurrency} errors={errors}")
    print(f"throughput={calls / elapsed:.0f}/s")
    print(f"p50={quantiles[49] * 1000:.2f} ms p99={quantiles[98] * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:9080")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(_run(args.url, args.calls, args.concurrency))


if __name__ == "__main__":
    main()
