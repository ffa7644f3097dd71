"""The local stack's NATS: one server, or a JetStream cluster of FAAS_NATS_CLUSTER.

Node n of a cluster listens on the first node's ports plus n - 1: clients on
FAAS_NATS_URL's port, monitoring on FAAS_NATS_MONITOR_PORT, routes on
FAAS_NATS_CLUSTER_PORT; it keeps its store in ``<data dir>/nats-<n>``.
"""

from pathlib import Path
from urllib.parse import urlsplit

from localstack import nats_server
from shared.settings import Settings

CLUSTER_NAME = "jetfaas"


def first_port(settings: Settings) -> int:
    return urlsplit(settings.nats_servers[0]).port or 4222


def names(settings: Settings) -> list[str]:
    """The name of each nats-server, in start order."""
    if settings.nats_cluster == 1:
        return ["nats"]
    return [f"nats-{node + 1}" for node in range(settings.nats_cluster)]


def servers(settings: Settings, data_dir: Path) -> list[tuple[str, list[str]]]:
    """The name and command line of each nats-server, in start order."""
    port, monitor = first_port(settings), settings.nats_monitor_port
    if settings.nats_cluster == 1:
        command = nats_server.command(
            port=port, monitor_port=monitor, store_dir=data_dir / "nats"
        )
        return [("nats", command)]

    first_route = settings.nats_cluster_port
    routes = [first_route + node for node in range(settings.nats_cluster)]
    found = []
    for node, name in enumerate(names(settings)):
        command = nats_server.command(
            port=port + node, monitor_port=monitor + node, store_dir=data_dir / name
        )
        others = ",".join(f"nats://127.0.0.1:{r}" for r in routes if r != routes[node])
        command += [
            "--name",
            name,
            "--cluster_name",
            CLUSTER_NAME,
            "--cluster",
            f"nats://127.0.0.1:{routes[node]}",
            "--routes",
            others,
        ]
        found.append((name, command))
    return found


def service_env(settings: Settings) -> dict[str, str]:
    """What the gateway and executors need to use every node of a cluster."""
    if settings.nats_cluster == 1:
        return {}
    port = first_port(settings)
    urls = [f"nats://127.0.0.1:{port + node}" for node in range(settings.nats_cluster)]
    return {
        "FAAS_NATS_URL": ",".join(urls),
        "FAAS_NATS_REPLICAS": str(settings.nats_cluster),
    }


def addresses(settings: Settings) -> list[tuple[str, str]]:
    """Client and monitoring address of each server, for the banner."""
    port, monitor = first_port(settings), settings.nats_monitor_port
    found = []
    for node, name in enumerate(names(settings)):
        found.append((name, f"nats://127.0.0.1:{port + node}"))
        found.append((f"{name} monitoring", f"http://127.0.0.1:{monitor + node}"))
    return found
