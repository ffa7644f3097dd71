"""docker-compose.yaml read as data, and rendered by a compose client if present."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.files import COMPOSE, SECRETS, compose, scrape_job, service
from tests.harness import ROOT

SERVICES = {"nats", "etcd", "apisix", "api-server", "executor", "prometheus"}
# Services whose image holds no program that could probe them.
UNPROBED = {"nats-exporter"}
SECRET_REFERENCE = re.compile(r"^\$\{(\w+):\?[^}]+\}$")


def test_every_service_of_the_design_exists() -> None:
    assert set(compose()["services"]) >= SERVICES


def test_every_service_is_described_in_the_deployment_docs() -> None:
    text = (ROOT / "docs" / "deployment.md").read_text()

    for name in compose()["services"]:
        assert f"`{name}`" in text, name


def test_every_service_has_a_healthcheck() -> None:
    for name, definition in compose()["services"].items():
        check = definition.get("healthcheck", {})
        if name in UNPROBED:
            assert check.get("disable") is True, name
        else:
            assert check.get("test"), name
            assert not check.get("disable", False), name


def test_dependencies_wait_for_health() -> None:
    """`up -d` converges without races: a dependency that can report its health
    is waited for until it does."""
    services = compose()["services"]
    for name, definition in services.items():
        for target, rule in definition.get("depends_on", {}).items():
            assert target in services, (name, target)
            wanted = "service_started" if target in UNPROBED else "service_healthy"
            assert rule == {"condition": wanted}, (name, target)

    assert "nats" in service("api-server")["depends_on"]
    assert {"nats", "api-server"} <= set(service("executor")["depends_on"])
    assert {"etcd", "api-server"} <= set(service("apisix")["depends_on"])


def test_secrets_are_required_references_and_nothing_else() -> None:
    """A missing secret stops start-up with a message, and none is written here."""
    text = COMPOSE.read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"\b[^}]*\}", text)
        assert uses, name
        assert all(SECRET_REFERENCE.match(use) for use in uses), uses

    for name, definition in compose()["services"].items():
        for key, value in (definition.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|ADMIN_KEY", key):
                assert SECRET_REFERENCE.match(str(value)), (name, key)


def test_each_service_gets_only_its_own_nats_password() -> None:
    nats = service("nats")["environment"]
    gateway = service("api-server")["environment"]
    executor = service("executor")["environment"]

    assert {"NATS_GATEWAY_PASSWORD", "NATS_EXECUTOR_PASSWORD"} <= set(nats)
    assert gateway["FAAS_NATS_USER"] == "gateway"
    assert gateway["FAAS_NATS_PASSWORD"].startswith("${NATS_GATEWAY_PASSWORD:?")
    assert executor["FAAS_NATS_USER"] == "executor"
    assert executor["FAAS_NATS_PASSWORD"].startswith("${NATS_EXECUTOR_PASSWORD:?")
    assert "FAAS_JWT_SECRET" not in executor


def test_nats_runs_its_config_with_a_store_on_a_named_volume() -> None:
    nats = service("nats")
    command = nats["command"]
    config = command[command.index("-c") + 1]
    store = command[command.index("-sd") + 1]
    mounts = dict(volume.split(":")[:2][::-1] for volume in nats["volumes"])

    assert mounts[os.path.dirname(config)] == "./nats_conf"
    assert (ROOT / "nats_conf" / os.path.basename(config)).is_file()
    assert mounts[store] in compose()["volumes"]
    assert "ports" not in nats


def test_only_apisix_and_prometheus_publish_ports() -> None:
    published = {
        name: definition["ports"]
        for name, definition in compose()["services"].items()
        if "ports" in definition
    }

    assert set(published) == {"apisix", "prometheus"}
    assert "9080:9080" in published["apisix"]
    assert any(port.endswith("9180:9180") for port in published["apisix"])


def test_gateway_listens_on_3000_inside_the_network() -> None:
    gateway = service("api-server")
    environment = gateway["environment"]

    assert environment["FAAS_HTTP_HOST"] == "0.0.0.0"
    assert environment["FAAS_HTTP_PORT"] == "3000"
    assert gateway["command"] == ["python", "-m", "gateway_api"]


def test_executor_scales_and_is_confined() -> None:
    """No fixed name or host port (so `--scale` works); a read-only root, a
    size-limited scratch tmpfs, and bounds on processes, memory and CPU."""
    executor = service("executor")
    environment = executor["environment"]
    tmpfs = {entry.split(":")[0]: entry for entry in executor["tmpfs"]}

    assert "ports" not in executor
    assert "container_name" not in executor
    assert executor["command"] == ["python", "-m", "executors"]
    assert executor["read_only"] is True
    assert "size=" in tmpfs[environment["FAAS_SCRATCH_DIR"]]
    assert 0 < executor["pids_limit"] <= 4096
    assert executor["mem_limit"]
    assert float(executor["cpus"]) > 0
    assert environment["FAAS_HTTP_HOST"] == "0.0.0.0"


def test_a_root_executor_keeps_only_the_sandbox_capabilities() -> None:
    executor = service("executor")

    assert executor["user"] == "0:0"
    assert executor["cap_drop"] == ["ALL"]
    assert set(executor["cap_add"]) <= {"CHOWN", "DAC_OVERRIDE", "KILL"} | {
        "SETUID",
        "SETGID",
    }
    assert "no-new-privileges:true" in executor["security_opt"]


def test_prometheus_scrapes_the_executors_metrics_port() -> None:
    port = int(service("executor")["environment"]["FAAS_METRICS_PORT"])
    discovery = scrape_job("executors")["dns_sd_configs"][0]

    assert discovery == {
        "names": ["executor"],
        "type": "A",
        "port": port,
        "refresh_interval": "15s",
    }


def test_mounted_files_exist() -> None:
    for definition in compose()["services"].values():
        for volume in definition.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def render(env_file: Path) -> subprocess.CompletedProcess[str]:
    client = compose_client()
    if client is None:
        pytest.skip("no compose client: neither `docker compose` nor docker-compose")
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*client, "--env-file", str(env_file), "-f", str(COMPOSE), "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_renders_with_every_secret_set(tmp_path: Path) -> None:
    env_file = tmp_path / "deploy.env"
    env_file.write_text("".join(f"{name}=dummy-{name}\n" for name in SECRETS))

    result = render(env_file)

    assert result.returncode == 0, result.stderr
    for name in SECRETS:
        assert f"dummy-{name}" in result.stdout


def test_compose_refuses_to_render_without_a_secret(tmp_path: Path) -> None:
    env_file = tmp_path / "deploy.env"
    env_file.write_text(f"{SECRETS[0]}=dummy\n")

    result = render(env_file)

    assert result.returncode != 0
    assert "missing, see .env.example" in result.stderr
