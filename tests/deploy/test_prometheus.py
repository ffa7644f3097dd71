"""ops/prometheus.yml: its jobs, promtool's verdict, and a real Prometheus
scraping a running stack through the same jobs."""

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.api import Account, create_function, execute
from tests.deploy.files import PROMETHEUS, prometheus, scrape_job
from tests.harness import Process, Stack, free_port, wait_for

CALLS = 5


def test_the_gateway_and_the_executors_are_scraped() -> None:
    gateway = scrape_job("gateway")
    executors = scrape_job("executors")

    assert gateway["static_configs"][0]["targets"] == ["api-server:3000"]
    assert gateway["metrics_path"] == "/metrics"
    assert executors["metrics_path"] == "/metrics"
    assert executors["dns_sd_configs"][0]["names"] == ["executor"]


def test_nats_is_scraped_through_its_exporter() -> None:
    assert scrape_job("nats")["static_configs"][0]["targets"] == ["nats-exporter:7777"]


def test_promtool_accepts_the_config() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")

    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def local_config(stack: Stack) -> dict[str, Any]:
    """The jobs of ops/prometheus.yml, aimed at the stack's loopback ports."""
    targets = {
        "gateway": [f"127.0.0.1:{stack.http_port}"],
        "executors": [
            f"127.0.0.1:{executor.metrics_port}"  # type: ignore[attr-defined]
            for executor in stack.executors
        ],
    }
    jobs = []
    for name, addresses in targets.items():
        job = {
            key: value
            for key, value in scrape_job(name).items()
            if not key.endswith("_sd_configs") and key != "static_configs"
        }
        jobs.append({**job, "static_configs": [{"targets": addresses}]})
    global_config = {**prometheus()["global"], "scrape_interval": "1s"}
    return {"global": global_config, "scrape_configs": jobs}


@pytest.fixture
def prometheus_url(stack: Stack, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (Debian package prometheus)")
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(local_config(stack)))
    port = free_port()
    server = Process(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        {"PATH": "/usr/bin:/bin"},
        tmp_path,
    )
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ready(url, server), timeout_s=30, what="prometheus")
        yield url
    finally:
        server.stop()


def ready(url: str, server: Process) -> bool:
    if not server.alive():
        raise RuntimeError("prometheus exited:\n" + server.output())
    try:
        return httpx.get(url + "/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def query(url: str, expression: str) -> list[dict[str, Any]]:
    response = httpx.get(url + "/api/v1/query", params={"query": expression})
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def value_of(url: str, expression: str) -> float:
    result = query(url, expression)
    return float(result[0]["value"][1]) if result else 0.0


@pytest.mark.slow
def test_prometheus_collects_faas_series_from_a_running_stack(
    prometheus_url: str, stack: Stack, api: httpx.Client, account: Account
) -> None:
    """After a few calls, both the gateway's and the executors' counters are
    queryable, and every executor is an `up` target of the executors job."""
    gateway_total = 'sum(faas_invocations_total{job="gateway"})'
    executors_total = 'sum(faas_executor_invocations_total{job="executors"})'
    before = {e: value_of(prometheus_url, e) for e in (gateway_total, executors_total)}
    function_id = create_function(api, account, "return input * 2")
    for number in range(CALLS):
        response = execute(api, account, function_id, number)
        assert response.json() == {"result": number * 2}

    def collected() -> bool:
        return all(
            value_of(prometheus_url, e) >= count + CALLS for e, count in before.items()
        )

    wait_for(collected, timeout_s=30, what="the calls' counters in prometheus")

    up = query(prometheus_url, 'up{job="executors"}')
    assert len(up) == len(stack.executors)
    assert all(sample["value"][1] == "1" for sample in up)
    names = query(prometheus_url, 'count by (__name__) ({__name__=~"faas_.*"})')
    assert {"faas_http_requests_total", "faas_executor_slots"} <= {
        sample["metric"]["__name__"] for sample in names
    }
