"""The deployment files of the repository, parsed once for the tests."""

import functools
from typing import Any

import yaml

from tests.harness import ROOT

COMPOSE = ROOT / "docker-compose.yaml"
PROMETHEUS = ROOT / "ops" / "prometheus.yml"
APISIX = ROOT / "apisix_conf" / "config.yaml"
DOCKERFILE = ROOT / "Dockerfile"
SECRETS = (
    "FAAS_JWT_SECRET",
    "NATS_GATEWAY_PASSWORD",
    "NATS_EXECUTOR_PASSWORD",
    "APISIX_ADMIN_KEY",
)


@functools.cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"][name]
    return found


@functools.cache
def prometheus() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PROMETHEUS.read_text())
    return loaded


def scrape_job(name: str) -> dict[str, Any]:
    jobs = {job["job_name"]: job for job in prometheus()["scrape_configs"]}
    return jobs[name]


@functools.cache
def apisix() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(APISIX.read_text())
    return loaded
