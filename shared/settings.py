"""Configuration read once from ``FAAS_*`` environment variables into one object."""

import os
from collections.abc import Mapping
from typing import Literal

import msgspec

from shared.errors import SettingsError

PREFIX = "FAAS_"
# JetStream keeps at most five copies of a stream.
_MAX_REPLICAS = 5


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of every jetfaas service; each field is ``FAAS_<FIELD>``."""

    nats_url: str = "nats://127.0.0.1:4222"
    """Comma-separated NATS server URLs."""

    nats_user: str | None = None
    nats_password: str | None = None

    http_host: str = "127.0.0.1"
    http_port: int = msgspec.field(default=9080)
    http_workers: int = 1
    """Gateway processes sharing the HTTP port (SO_REUSEPORT), each with its own
    NATS connection."""

    jwt_secret: str | None = None
    """HS256 key; the gateway refuses to start without one."""

    jwt_ttl_s: int = 3600
    jwt_issuer: str = "jetfaas"

    nats_monitor_port: int = 8222
    """Where the local stack's nats-server serves its monitoring endpoint."""

    nats_replicas: int = 1
    """Copies JetStream keeps of each stream and bucket; 3 on a three-node cluster."""

    nats_cluster: int = 1
    """How many clustered nats-servers the local stack starts; 1 runs no cluster."""

    nats_cluster_port: int = 6222
    """First route port of the local stack's cluster; node n listens on it + n - 1."""

    data_dir: str = ".jetfaas"
    """Where the local stack keeps the NATS store and its generated secret."""

    executors: int = 2
    """How many executor processes the local stack starts."""

    executor_slots: int = 0
    """Concurrent invocations per executor; 0 means one per CPU."""

    metrics_port: int = 9100
    """Where an executor serves /metrics; 0 disables it."""

    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    max_body_bytes: int = 1_048_576
    max_code_bytes: int = 65_536
    max_result_bytes: int = 1_048_576
    max_log_bytes: int = 65_536

    default_timeout_ms: int = 5_000
    max_timeout_ms: int = 60_000
    default_memory_mb: int = 128
    max_memory_mb: int = 1_024

    queue_max_msgs: int = 100_000
    queue_max_bytes: int = 1_073_741_824
    dispatch_wait_ms: int = 10_000
    """How long a synchronous call may wait in the queue before it must start."""

    user_concurrency: int = 100
    """Synchronous invocations one user may have waiting in one gateway process;
    0 removes the limit. It bounds how long one user's backlog delays others."""

    max_attempts: int = 3
    """Deliveries of one invocation before it is reported as failed."""

    async_result_ttl_s: int = 86_400
    scratch_dir: str | None = None
    """Parent of the sandbox workers' scratch dirs; a new temporary dir if unset."""

    warm_workers: int = 32
    """Warm sandbox workers an executor keeps, least recently used recycled first."""

    @property
    def slots(self) -> int:
        """Effective executor slots."""
        return self.executor_slots or os.cpu_count() or 1

    @property
    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (the process environment by default).

    Raises:
        SettingsError: naming the variable whose value is missing or malformed.
    """
    env = os.environ if environ is None else environ
    fields = set(Settings.__struct_fields__)
    raw = {
        name: value
        for key, value in env.items()
        if key.startswith(PREFIX) and (name := key[len(PREFIX) :].lower()) in fields
    }

    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_name_the_variable(str(exc))) from exc

    _check_ranges(settings)
    return settings


def _name_the_variable(message: str) -> str:
    detail, _, path = message.rpartition(" - at `$.")
    if not path:
        return message
    variable = PREFIX + path.rstrip("`").upper()
    return f"{variable}: {detail}"


def _check_ranges(settings: Settings) -> None:
    positive = (
        "jwt_ttl_s",
        "max_body_bytes",
        "max_code_bytes",
        "max_result_bytes",
        "max_log_bytes",
        "default_timeout_ms",
        "max_timeout_ms",
        "default_memory_mb",
        "max_memory_mb",
        "queue_max_msgs",
        "queue_max_bytes",
        "max_attempts",
        "warm_workers",
        "http_workers",
    )
    for name in positive:
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{PREFIX}{name.upper()}: must be greater than 0")

    for name in ("executor_slots", "executors", "dispatch_wait_ms", "user_concurrency"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"{PREFIX}{name.upper()}: must not be negative")

    if not 0 <= settings.http_port < 65536 or not 0 <= settings.metrics_port < 65536:
        raise SettingsError("FAAS_HTTP_PORT and FAAS_METRICS_PORT: must be 0-65535")

    for name in ("nats_replicas", "nats_cluster"):
        if not 1 <= getattr(settings, name) <= _MAX_REPLICAS:
            raise SettingsError(f"{PREFIX}{name.upper()}: must be 1-{_MAX_REPLICAS}")

    if settings.default_timeout_ms > settings.max_timeout_ms:
        raise SettingsError("FAAS_DEFAULT_TIMEOUT_MS: exceeds FAAS_MAX_TIMEOUT_MS")

    if settings.default_memory_mb > settings.max_memory_mb:
        raise SettingsError("FAAS_DEFAULT_MEMORY_MB: exceeds FAAS_MAX_MEMORY_MB")
