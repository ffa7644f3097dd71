"""init_routes.sh against a stand-in Admin API: what it PUTs, and how it fails."""

import os
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from tests.deploy.admin_api import AdminApi
from tests.harness import ROOT, free_port

SCRIPT = ROOT / "init_routes.sh"
KEY = "test-admin-key"
UPSTREAM = "/apisix/admin/upstreams/jetfaas-api"
ROUTES = {
    "jetfaas-auth": ("/auth/*", {"POST"}),
    "jetfaas-functions": ("/functions", {"GET", "POST"}),
    "jetfaas-function": ("/functions/*", {"GET", "PUT", "DELETE"}),
    "jetfaas-execute": ("/functions/*", {"POST"}),
    "jetfaas-invocations": ("/invocations/*", {"GET"}),
}


def run_script(
    admin_url: str, *, timeout_s: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT)],
        env=script_env(admin_url, env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def script_env(admin_url: str, overrides: Mapping[str, str]) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "APISIX_ADMIN_URL": admin_url,
        "APISIX_ADMIN_KEY": KEY,
        "APISIX_ENV_FILE": "/nonexistent/.env",
        "APISIX_WAIT_INTERVAL_S": "0.1",
        "APISIX_WAIT_TRIES": "50",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value}


@pytest.fixture
def admin() -> Iterator[AdminApi]:
    api = AdminApi(free_port()).start()
    yield api
    api.stop()


def routes_of(admin: AdminApi) -> dict[str, dict[str, Any]]:
    prefix = "/apisix/admin/routes/"
    bodies = admin.put_bodies()
    return {path[len(prefix) :]: b for path, b in bodies.items() if prefix in path}


def test_every_request_carries_the_admin_key(admin: AdminApi) -> None:
    """The key authenticates the wait probe and every PUT alike."""
    result = run_script(admin.url)

    assert result.returncode == 0, result.stderr
    assert admin.requests
    assert {request.api_key for request in admin.requests} == {KEY}


def test_upstream_is_the_gateway_on_port_3000(admin: AdminApi) -> None:
    """One upstream, api-server:3000, never retrying a non-idempotent call."""
    run_script(admin.url)

    upstream = admin.put_bodies()[UPSTREAM]
    assert upstream["nodes"] == {"api-server:3000": 1}
    assert upstream["type"] == "roundrobin"
    assert upstream["retries"] == 0


def test_upstream_node_can_be_overridden(admin: AdminApi) -> None:
    run_script(admin.url, APISIX_UPSTREAM_NODE="gateway.internal:3001")

    assert admin.put_bodies()[UPSTREAM]["nodes"] == {"gateway.internal:3001": 1}


def test_routes_have_their_uris_methods_and_upstream(admin: AdminApi) -> None:
    """Each route of the HTTP API exists once, with only the methods it serves."""
    run_script(admin.url)

    routes = routes_of(admin)
    assert set(routes) == set(ROUTES)
    for route_id, (uri, methods) in ROUTES.items():
        route = routes[route_id]
        assert route["uri"] == uri, route_id
        assert set(route["methods"]) == methods, route_id
        assert route["upstream_id"] == "jetfaas-api", route_id


def test_every_route_sets_request_id_body_limit_and_metrics(admin: AdminApi) -> None:
    """The request id reaches the gateway and the caller; bodies the gateway
    would accept pass, and much larger ones are cut off at the edge."""
    run_script(admin.url)

    max_body = Settings().max_body_bytes
    for route_id, route in routes_of(admin).items():
        plugins = route["plugins"]
        assert plugins["request-id"] == {
            "header_name": "X-Request-Id",
            "include_in_response": True,
        }, route_id
        limit = plugins["client-control"]["max_body_size"]
        assert max_body < limit <= 2 * max_body, route_id
        assert "prometheus" in plugins, route_id


def test_auth_routes_are_rate_limited_per_client(admin: AdminApi) -> None:
    run_script(admin.url)

    limit = routes_of(admin)["jetfaas-auth"]["plugins"]["limit-count"]
    assert limit["key"] == "remote_addr"
    assert limit["rejected_code"] == 429
    assert 0 < limit["count"] <= 60
    assert limit["time_window"] == 60


def test_execute_waits_longer_than_the_longest_call(admin: AdminApi) -> None:
    """The proxy outlasts the longest function timeout plus the queue wait, so
    the gateway's own 504 reaches the caller rather than APISIX's."""
    run_script(admin.url)

    settings = Settings()
    longest_s = (settings.max_timeout_ms + settings.dispatch_wait_ms) / 1000
    execute = routes_of(admin)["jetfaas-execute"]
    timeout = execute["timeout"]
    assert timeout["read"] > longest_s
    assert timeout["send"] > longest_s
    assert longest_s > 60

    (variable, operator, pattern) = execute["vars"][0]
    assert (variable, operator) == ("uri", "~~")
    assert re.search(pattern, "/functions/12/execute")
    assert not re.search(pattern, "/functions/12")
    assert not re.search(pattern, "/functions/12/delete")


def test_a_second_run_sends_the_same_puts(admin: AdminApi) -> None:
    """Fixed ids: running the script again rewrites the same objects."""
    first = run_script(admin.url)
    once = [(r.path, r.json()) for r in admin.puts()]
    admin.requests.clear()
    second = run_script(admin.url)

    assert first.returncode == second.returncode == 0
    assert [(r.path, r.json()) for r in admin.puts()] == once
    assert all(r.path.rsplit("/", 1)[1].startswith("jetfaas-") for r in admin.puts())


def test_a_missing_admin_key_stops_before_any_request(admin: AdminApi) -> None:
    result = run_script(admin.url, APISIX_ADMIN_KEY="")

    assert result.returncode != 0
    assert "APISIX_ADMIN_KEY is not set" in result.stderr
    assert admin.requests == []


def test_the_admin_key_is_read_from_the_env_file(
    admin: AdminApi, tmp_path: Path
) -> None:
    """As docker-compose does, so the original `./init_routes.sh` just works."""
    env_file = tmp_path / ".env"
    env_file.write_text("FAAS_JWT_SECRET=x\nAPISIX_ADMIN_KEY='from-the-file'\n")

    result = run_script(admin.url, APISIX_ADMIN_KEY="", APISIX_ENV_FILE=str(env_file))

    assert result.returncode == 0, result.stderr
    assert {request.api_key for request in admin.requests} == {"from-the-file"}


@pytest.mark.parametrize("status", [400, 401, 500])
def test_an_admin_api_error_fails_the_script(status: int) -> None:
    """The first refused PUT stops the script, with the answer printed."""
    api = AdminApi(free_port(), status=status).start()
    try:
        result = run_script(api.url)
    finally:
        api.stop()

    assert result.returncode != 0
    assert f"answered {status}" in result.stderr
    assert f"status {status}" in result.stderr
    assert len(api.puts()) == 1


def test_a_bad_number_is_refused(admin: AdminApi) -> None:
    result = run_script(admin.url, APISIX_EXECUTE_TIMEOUT_S="80s")

    assert result.returncode != 0
    assert "APISIX_EXECUTE_TIMEOUT_S" in result.stderr
    assert admin.requests == []


def test_the_script_waits_for_a_late_admin_api() -> None:
    """APISIX may still be starting after `docker-compose up -d`."""
    late = AdminApi(free_port())
    starter = threading.Timer(1.0, late.start)
    starter.start()
    try:
        result = run_script(late.url, APISIX_WAIT_TRIES="100")
    finally:
        starter.join()
        late.stop()

    assert result.returncode == 0, result.stderr
    assert len(late.puts()) == 1 + len(ROUTES)


def test_the_script_gives_up_when_the_admin_api_never_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run_script(url, APISIX_WAIT_TRIES="3", timeout_s=15)

    assert result.returncode != 0
    assert "did not answer after 3 tries" in result.stderr
