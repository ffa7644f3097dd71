"""The original walkthrough against the stack `make up` runs, byte for byte."""

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import free_port, port_open, start_local_stack, wait_for


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``python -m localstack`` with free ports and a fresh data dir."""
    data_dir = tmp_path_factory.mktemp("localstack")
    ports = {name: free_port() for name in ("http", "nats", "monitor", "metrics")}
    env = {
        "PATH": "/usr/bin:/bin",
        "FAAS_DATA_DIR": str(data_dir),
        "FAAS_HTTP_PORT": str(ports["http"]),
        "FAAS_NATS_URL": f"nats://127.0.0.1:{ports['nats']}",
        "FAAS_NATS_MONITOR_PORT": str(ports["monitor"]),
        "FAAS_METRICS_PORT": str(ports["metrics"]),
        "FAAS_EXECUTORS": "2",
        "FAAS_LOG_FORMAT": "json",
    }
    log_path = data_dir / "stack.log"
    launcher = start_local_stack(env, log_path)
    base_url = f"http://127.0.0.1:{ports['http']}"
    try:
        wait_for(lambda: _ready(base_url), timeout_s=30, what="local stack")
        wait_for(
            lambda: log_path.read_text().count('"executor_started"') >= 2,
            timeout_s=30,
            what="executors",
        )
        yield {"base_url": base_url, "data_dir": str(data_dir), "log": str(log_path)}
    finally:
        launcher.send_signal(signal.SIGINT)
        code = launcher.wait(30)
        assert code == 0, log_path.read_text()[-3000:]
        assert "Traceback" not in log_path.read_text(), "a part did not stop cleanly"
        assert not port_open(ports["http"]), "the gateway outlived the launcher"
        assert not port_open(ports["nats"]), "nats-server outlived the launcher"


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_original_walkthrough_answers_exactly_as_documented(
    local_stack: dict[str, str],
) -> None:
    """The five curl commands of the original, sent as curl sends them."""
    client = httpx.Client(base_url=local_stack["base_url"], timeout=30)
    body = '{"username": "testuser", "password": "password123"}'
    json_header = {"Content-Type": "application/json"}

    registered = client.post("/auth/register", content=body, headers=json_header)
    assert registered.text == '{"message": "Usuario registrado exitosamente"}'

    login = client.post("/auth/login", content=body, headers=json_header)
    token = json.loads(login.text)["token"]
    assert login.text == f'{{"token": "{token}"}}'
    auth = {**json_header, "Authorization": f"Bearer {token}"}

    created = client.post(
        "/functions",
        content='{"user": "testuser", "code": "return input + 1;"}',
        headers=auth,
    )
    assert created.status_code == 201
    assert created.text.startswith('{"id": 1, "code": "return input + 1;"')

    executed = client.post(
        "/functions/1/execute", content='{"input": 10}', headers=auth
    )
    assert (executed.status_code, executed.text) == (200, '{"result": 11}')

    deleted = client.delete("/functions/1/delete", headers=auth)
    assert (deleted.status_code, deleted.text) == (
        200,
        '{"message":"Función eliminada"}',
    )


def test_local_stack_keeps_its_jwt_secret_private_in_the_data_dir(
    local_stack: dict[str, str],
) -> None:
    secret = Path(local_stack["data_dir"]) / "jwt_secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text().strip()) >= 32
