"""A three-node JetStream cluster on loopback, and a stack whose services use it."""

import json
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.harness import NatsServer, Process, Stack, free_port, wait_for

CLUSTER_NAME = "jetfaas"


class ClusterNode(NatsServer):
    """One nats-server of the cluster: the harness's server plus routes to the rest.

    Built on ``NatsServer`` so that it gets the same configuration, passwords
    and environment; only the name, store and cluster flags differ.
    """

    def __init__(self, workdir: Path, name: str, cluster_port: int) -> None:
        node_dir = workdir / name
        node_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(node_dir)
        self.name = name
        self.cluster_port = cluster_port

    def join(self, route_ports: list[int]) -> None:
        """Add the cluster flags; call once, before the first start."""
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in route_ports)
        self.argv += [
            "--name",
            self.name,
            "--cluster_name",
            CLUSTER_NAME,
            "--cluster",
            f"nats://127.0.0.1:{self.cluster_port}",
            "--routes",
            routes,
        ]

    def monitor(self, path: str) -> Any:
        """GET a monitoring endpoint (``/jsz?...``) of this node as JSON."""
        url = f"http://127.0.0.1:{self.monitor_port}{path}"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)


class NatsCluster:
    """``size`` clustered nats-servers, each with its own ports and store."""

    def __init__(self, workdir: Path, *, size: int = 3) -> None:
        self.nodes = [
            ClusterNode(workdir, f"n{index}", free_port())
            for index in range(1, size + 1)
        ]
        for node in self.nodes:
            node.join([other.cluster_port for other in self.nodes if other is not node])

    @property
    def url(self) -> str:
        """Every node's client URL, comma separated, as FAAS_NATS_URL takes it."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        wait_for(self._has_meta_leader, timeout_s=30, what="JetStream meta leader")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def alive(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.alive()]

    def stream_leader(self, stream: str) -> str | None:
        """The name of the node leading ``stream``, as a live node reports it."""
        for node in self.alive():
            try:
                report = node.monitor("/jsz?accounts=true&streams=true")
            except OSError:
                continue
            for account in report.get("account_details") or []:
                for detail in account.get("stream_detail") or []:
                    leader = (detail.get("cluster") or {}).get("leader")
                    if detail.get("name") == stream and leader:
                        return str(leader)
        return None

    def node(self, name: str) -> ClusterNode:
        return next(node for node in self.nodes if node.name == name)

    def _has_meta_leader(self) -> bool:
        try:
            report = self.nodes[0].monitor("/jsz")
        except OSError:
            return False
        return bool((report.get("meta_cluster") or {}).get("leader"))


class ClusterStack(Stack):
    """The harness's stack with its nats-server replaced by a cluster.

    Services get every node's URL and three replicas of each stream and bucket.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        executors: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.cluster = NatsCluster(workdir)
        super().__init__(workdir, executors=executors, env=env)
        self.nats = self.cluster.nodes[0]

    def service_env(self, **overrides: str) -> dict[str, str]:
        clustered = {"FAAS_NATS_URL": self.cluster.url, "FAAS_NATS_REPLICAS": "3"}
        return super().service_env(**{**clustered, **overrides})

    def start(self) -> "ClusterStack":
        self.cluster.start()
        self.gateway.start()
        for executor in self.executors:
            executor.start()
        self.wait_gateway_ready(timeout_s=40)
        for executor in self.executors:
            self.wait_executor_ready(executor, timeout_s=40)
        return self

    def stop(self) -> None:
        super().stop()
        self.cluster.stop()

    def logs(self) -> str:
        parts: list[Process] = [*self.cluster.nodes, self.gateway, *self.executors]
        return "\n".join(f"--- {p.name}\n{p.output()[-4000:]}" for p in parts)


def stop_with(process: Process, signum: int) -> None:
    """Send ``signum`` and wait for the exit; ``start()`` brings it back as it was."""
    process.signal(signum)
    assert process.popen is not None
    process.popen.wait(30)
