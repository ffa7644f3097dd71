"""Secrets of the local stack: kept across starts, private, and plain strings."""

import os
import re
import subprocess
from pathlib import Path

from localstack import nats_server, secrets


def test_secrets_are_kept_and_readable_by_the_owner_only(tmp_path: Path) -> None:
    first = secrets.nats_passwords(tmp_path)
    again = secrets.nats_passwords(tmp_path)

    assert first == again
    assert first["gateway"] != first["executor"]
    for name in secrets.NATS_PASSWORDS.values():
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_passwords_are_strings_to_nats_server(tmp_path: Path) -> None:
    """nats-server parses variables: a number or a date would not be a password."""
    generated = [secrets.jwt_secret(tmp_path / str(n)) for n in range(200)]
    assert all(re.fullmatch("[a-z][0-9a-f]{64}", value) for value in generated)

    passwords = secrets.nats_passwords(tmp_path / "stack")
    env = {**os.environ, **nats_server.password_env(passwords)}
    checked = subprocess.run(
        [nats_server.binary(), "-t", "-c", str(nats_server.CONFIG)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
