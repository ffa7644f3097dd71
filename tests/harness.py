"""Real processes for the tests: nats-server, gateways and executors on free ports."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from localstack import nats_server

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "test-secret-of-at-least-32-bytes-for-hs256"
NATS_PASSWORDS = {
    "gateway": "test-gateway-password",
    "executor": "test-executor-password",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout_s} s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_local_stack(
    env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """``python -m localstack`` from the repository root, its output in ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "localstack"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


class Process:
    """A child process whose output goes to a log file the test can read."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], logs: Path):
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log_path = logs / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log_file = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        log_file.close()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.send_signal(signum)

    def stop(self, *, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.popen is None:
            return None
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def kill(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait()

    def output(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )


class NatsServer(Process):
    """A real nats-server from nats_conf/nats.conf with a temporary store."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.monitor_port = free_port()
        argv = nats_server.command(
            port=self.port, monitor_port=self.monitor_port, store_dir=workdir / "nats"
        )
        env = {**os.environ, **nats_server.password_env(NATS_PASSWORDS)}
        super().__init__("nats", argv, env, workdir)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def client_env(self, user: str = "gateway") -> dict[str, str]:
        """The settings of a service connecting to this server as ``user``."""
        return {
            "FAAS_NATS_URL": self.url,
            **nats_server.client_env(user, NATS_PASSWORDS),
        }

    def start(self) -> None:
        super().start()
        wait_for(lambda: port_open(self.port), timeout_s=10, what="nats-server")


class Stack:
    """nats-server, one gateway and some executors, as real processes."""

    def __init__(
        self,
        workdir: Path,
        *,
        executors: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.nats = NatsServer(workdir)
        self.http_port = free_port()
        self.extra_env = dict(env or {})
        self.gateway = Process(
            "gateway",
            [sys.executable, "-m", "gateway_api"],
            self.service_env(
                FAAS_JWT_SECRET=JWT_SECRET,
                FAAS_HTTP_PORT=str(self.http_port),
                **nats_server.client_env("gateway", NATS_PASSWORDS),
            ),
            workdir,
        )
        self.executors: list[Process] = []
        for _ in range(executors):
            self.add_executor()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def service_env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_")}
        env.update(
            FAAS_NATS_URL=self.nats.url,
            FAAS_LOG_FORMAT="json",
            FAAS_EXECUTOR_SLOTS="2",
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def add_executor(self) -> Process:
        index = len(self.executors) + 1
        metrics_port = free_port()
        process = Process(
            f"executor-{index}",
            [sys.executable, "-m", "executors"],
            self.service_env(
                FAAS_METRICS_PORT=str(metrics_port),
                **nats_server.client_env("executor", NATS_PASSWORDS),
            ),
            self.workdir,
        )
        process.metrics_port = metrics_port  # type: ignore[attr-defined]
        self.executors.append(process)
        return process

    def start(self) -> "Stack":
        self.nats.start()
        self.gateway.start()
        for executor in self.executors:
            executor.start()
        self.wait_gateway_ready()
        for executor in self.executors:
            self.wait_executor_ready(executor)
        return self

    def wait_gateway_ready(self, timeout_s: float = 20) -> None:
        def ready() -> bool:
            if not self.gateway.alive():
                raise RuntimeError("gateway exited:\n" + self.gateway.output())
            try:
                return (
                    httpx.get(self.base_url + "/readyz", timeout=1).status_code == 200
                )
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout_s=timeout_s, what="gateway")

    def wait_executor_ready(self, executor: Process, timeout_s: float = 20) -> None:
        def ready() -> bool:
            if not executor.alive():
                raise RuntimeError(f"{executor.name} exited:\n" + executor.output())
            return "executor_started" in executor.output()

        wait_for(ready, timeout_s=timeout_s, what=executor.name)

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        for executor in self.executors:
            executor.stop()
        self.gateway.stop()
        self.nats.stop()

    def logs(self) -> str:
        parts = [self.nats, self.gateway, *self.executors]
        return "\n".join(f"--- {p.name}\n{p.output()[-4000:]}" for p in parts)
