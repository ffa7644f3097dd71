"""apisix_conf/config.yaml against the compose file and init_routes.sh."""

import ipaddress
import os
import subprocess

from tests.deploy.admin_api import AdminApi
from tests.deploy.files import APISIX, apisix, compose, scrape_job
from tests.harness import ROOT, free_port

DOCUMENTED_DEFAULT_KEY = "edd1c9f034335f136f87ad84b625c8f1"


def test_admin_key_comes_from_the_environment_only() -> None:
    admin = apisix()["deployment"]["admin"]

    assert admin["admin_key_required"] is True
    assert [entry["key"] for entry in admin["admin_key"]] == ["${{APISIX_ADMIN_KEY}}"]
    assert DOCUMENTED_DEFAULT_KEY not in APISIX.read_text()


def test_admin_api_admits_loopback_and_the_compose_network_only() -> None:
    subnets = [
        ipaddress.ip_network(entry["subnet"])
        for entry in compose()["networks"]["jetfaas"]["ipam"]["config"]
    ]
    allowed = apisix()["deployment"]["admin"]["allow_admin"]

    assert allowed
    for entry in allowed:
        network = ipaddress.ip_network(entry)
        assert network.is_loopback or any(
            network.subnet_of(subnet) for subnet in subnets
        ), entry
    assert any(ipaddress.ip_network(e) == subnets[0] for e in allowed)


def test_etcd_is_the_compose_service() -> None:
    hosts = apisix()["deployment"]["etcd"]["host"]

    assert hosts == ["http://etcd:2379"]
    assert "etcd" in compose()["services"]


def test_every_plugin_the_routes_use_is_enabled() -> None:
    """A plugin missing from the list makes APISIX refuse the route."""
    api = AdminApi(free_port()).start()
    try:
        env = {
            "PATH": os.environ["PATH"],
            "APISIX_ADMIN_URL": api.url,
            "APISIX_ADMIN_KEY": "key",
            "APISIX_ENV_FILE": "/nonexistent/.env",
        }
        result = subprocess.run(
            [str(ROOT / "init_routes.sh")], env=env, capture_output=True, timeout=30
        )
    finally:
        api.stop()
    used = {
        plugin
        for path, body in api.put_bodies().items()
        if "/routes/" in path
        for plugin in body["plugins"]
    }

    assert result.returncode == 0
    assert used
    assert used <= set(apisix()["plugins"])


def test_apisix_metrics_are_served_where_prometheus_looks() -> None:
    exporter = apisix()["plugin_attr"]["prometheus"]
    job = scrape_job("apisix")

    assert exporter["export_addr"]["ip"] == "0.0.0.0"
    target = f"apisix:{exporter['export_addr']['port']}"
    assert job["static_configs"][0]["targets"] == [target]
    assert job["metrics_path"] == exporter["export_uri"]
