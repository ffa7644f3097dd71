"""Which processes make up the local stack, and the environment each one gets."""

import sys
from collections.abc import Mapping
from pathlib import Path

from localstack import cluster, nats_server, secrets
from localstack.supervisor import Child, child_env, scrubbed
from shared.settings import Settings


def children(settings: Settings, environ: Mapping[str, str]) -> list[Child]:
    """nats-server, the gateway and ``settings.executors`` executors, in start order.

    Only the gateway is given the JWT secret: executors never need it. Each
    service connects to NATS as its own user, with only that user's password.
    """
    data_dir = Path(settings.data_dir).resolve()
    secret = settings.jwt_secret or secrets.jwt_secret(data_dir)
    passwords = secrets.nats_passwords(data_dir)
    server_env = nats_server.password_env(passwords)
    base = scrubbed(
        environ, "FAAS_JWT_SECRET", "FAAS_NATS_USER", "FAAS_NATS_PASSWORD", *server_env
    )
    python = sys.executable

    stack = [
        Child(name, command, child_env(base, **server_env))
        for name, command in cluster.servers(settings, data_dir)
    ]
    base = child_env(base, **cluster.service_env(settings))
    stack += [
        Child(
            "gateway",
            [python, "-m", "gateway_api"],
            child_env(
                base,
                FAAS_JWT_SECRET=secret,
                **nats_server.client_env("gateway", passwords),
            ),
        ),
    ]
    for index in range(1, settings.executors + 1):
        port = settings.metrics_port + index if settings.metrics_port else 0
        env = child_env(
            base,
            FAAS_METRICS_PORT=str(port),
            **nats_server.client_env("executor", passwords),
        )
        stack.append(Child(f"executor-{index}", [python, "-m", "executors"], env))
    return stack


def addresses(settings: Settings) -> list[tuple[str, str]]:
    """What listens where, for the banner."""
    host = settings.http_host
    found = [
        ("gateway", f"http://{host}:{settings.http_port}"),
        ("openapi", f"http://{host}:{settings.http_port}/schema"),
        *cluster.addresses(settings),
    ]
    for index in range(1, settings.executors + 1):
        if settings.metrics_port:
            port = settings.metrics_port + index
            found.append((f"executor-{index} metrics", f"http://{host}:{port}/metrics"))
    return found
