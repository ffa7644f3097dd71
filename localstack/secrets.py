"""Secrets of the local stack, generated once and kept in its data dir."""

import os
import secrets
from pathlib import Path

JWT_SECRET = "jwt_secret"
NATS_PASSWORDS = {
    "gateway": "nats_gateway_password",
    "executor": "nats_executor_password",
}


def kept_secret(data_dir: Path, filename: str) -> str:
    """Read a kept secret, creating it (readable by the owner only) on first use."""
    path = data_dir / filename
    if path.exists():
        return path.read_text().strip()

    data_dir.mkdir(parents=True, exist_ok=True)
    # nats-server parses a variable's value: "1e5" would be a number and
    # "2024-01-02" a date. A letter first keeps every secret a plain string.
    secret = "s" + secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def jwt_secret(data_dir: Path) -> str:
    """The HS256 key the gateway signs tokens with."""
    return kept_secret(data_dir, JWT_SECRET)


def nats_passwords(data_dir: Path) -> dict[str, str]:
    """The password of each NATS user in nats_conf/nats.conf, by user name."""
    return {user: kept_secret(data_dir, name) for user, name in NATS_PASSWORDS.items()}
