"""The JWT secret of the local stack, generated once and kept in its data dir."""

import os
import secrets
from pathlib import Path

FILENAME = "jwt_secret"


def jwt_secret(data_dir: Path) -> str:
    """Read the kept secret, creating it (readable by the owner only) on first use."""
    path = data_dir / FILENAME
    if path.exists():
        return path.read_text().strip()

    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret
