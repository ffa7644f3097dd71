"""Settings read from ``FAAS_*`` variables, and the errors that name a bad one."""

from typing import Any

import pytest

from shared.errors import SettingsError
from shared.settings import Settings, load_settings


def test_defaults_with_an_empty_environment() -> None:
    settings = load_settings({})

    assert settings == Settings()
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 9080)
    assert settings.jwt_secret is None
    assert (settings.jwt_ttl_s, settings.jwt_issuer) == (3600, "jetfaas")
    assert (settings.log_format, settings.log_level) == ("json", "info")
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_code_bytes == 65_536
    assert (settings.default_timeout_ms, settings.max_timeout_ms) == (5_000, 60_000)
    assert (settings.default_memory_mb, settings.max_memory_mb) == (128, 1_024)
    assert settings.max_attempts == 3


def test_the_process_environment_is_read_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAAS_HTTP_PORT", "3000")

    assert load_settings().http_port == 3000


# Every setting: its variable, a raw value, the field and the converted value.
VARIABLES = [
    ("FAAS_NATS_URL", "nats://n1:4222", "nats_url", "nats://n1:4222"),
    ("FAAS_NATS_USER", "svc", "nats_user", "svc"),
    ("FAAS_NATS_PASSWORD", "pw", "nats_password", "pw"),
    ("FAAS_HTTP_HOST", "0.0.0.0", "http_host", "0.0.0.0"),
    ("FAAS_HTTP_PORT", "3000", "http_port", 3000),
    ("FAAS_HTTP_WORKERS", "2", "http_workers", 2),
    ("FAAS_JWT_SECRET", "s" * 32, "jwt_secret", "s" * 32),
    ("FAAS_JWT_TTL_S", "60", "jwt_ttl_s", 60),
    ("FAAS_JWT_ISSUER", "me", "jwt_issuer", "me"),
    ("FAAS_NATS_MONITOR_PORT", "8223", "nats_monitor_port", 8223),
    ("FAAS_NATS_REPLICAS", "3", "nats_replicas", 3),
    ("FAAS_NATS_CLUSTER", "3", "nats_cluster", 3),
    ("FAAS_NATS_CLUSTER_PORT", "7222", "nats_cluster_port", 7222),
    ("FAAS_DATA_DIR", "/tmp/faas", "data_dir", "/tmp/faas"),
    ("FAAS_EXECUTORS", "4", "executors", 4),
    ("FAAS_EXECUTOR_SLOTS", "8", "executor_slots", 8),
    ("FAAS_METRICS_PORT", "0", "metrics_port", 0),
    ("FAAS_LOG_FORMAT", "console", "log_format", "console"),
    ("FAAS_LOG_LEVEL", "debug", "log_level", "debug"),
    ("FAAS_MAX_BODY_BYTES", "2048", "max_body_bytes", 2048),
    ("FAAS_MAX_CODE_BYTES", "1024", "max_code_bytes", 1024),
    ("FAAS_MAX_RESULT_BYTES", "4096", "max_result_bytes", 4096),
    ("FAAS_MAX_LOG_BYTES", "512", "max_log_bytes", 512),
    ("FAAS_DEFAULT_TIMEOUT_MS", "100", "default_timeout_ms", 100),
    ("FAAS_MAX_TIMEOUT_MS", "90000", "max_timeout_ms", 90_000),
    ("FAAS_DEFAULT_MEMORY_MB", "64", "default_memory_mb", 64),
    ("FAAS_MAX_MEMORY_MB", "2048", "max_memory_mb", 2048),
    ("FAAS_QUEUE_MAX_MSGS", "10", "queue_max_msgs", 10),
    ("FAAS_QUEUE_MAX_BYTES", "1000000", "queue_max_bytes", 1_000_000),
    ("FAAS_DISPATCH_WAIT_MS", "0", "dispatch_wait_ms", 0),
    ("FAAS_MAX_ATTEMPTS", "5", "max_attempts", 5),
    ("FAAS_USER_CONCURRENCY", "0", "user_concurrency", 0),
    ("FAAS_ASYNC_RESULT_TTL_S", "60", "async_result_ttl_s", 60),
    ("FAAS_WARM_WORKERS", "2", "warm_workers", 2),
    ("FAAS_SCRATCH_DIR", "/scratch", "scratch_dir", "/scratch"),
]


@pytest.mark.parametrize(("variable", "raw", "field", "value"), VARIABLES)
def test_each_variable_is_read_and_converted(
    variable: str, raw: str, field: str, value: Any
) -> None:
    settings = load_settings({variable: raw})

    assert getattr(settings, field) == value
    assert type(getattr(settings, field)) is type(value)


def test_every_setting_is_named_by_its_variable() -> None:
    """Each field is ``FAAS_<FIELD>``, and the table above covers every field."""
    assert {field for _, _, field, _ in VARIABLES} == set(Settings.__struct_fields__)
    assert all(
        variable == f"FAAS_{field.upper()}" for variable, _, field, _ in VARIABLES
    )


def test_nats_url_may_list_several_servers() -> None:
    settings = load_settings({"FAAS_NATS_URL": "nats://a:1, nats://b:2,"})

    assert settings.nats_servers == ["nats://a:1", "nats://b:2"]


def test_zero_executor_slots_means_one_per_cpu() -> None:
    assert load_settings({"FAAS_EXECUTOR_SLOTS": "3"}).slots == 3
    assert load_settings({"FAAS_EXECUTOR_SLOTS": "0"}).slots >= 1


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FAAS_HTTP_PORT": "abc"}, "FAAS_HTTP_PORT: Expected `int`, got `str`"),
        ({"FAAS_JWT_TTL_S": "1.5"}, "FAAS_JWT_TTL_S: Expected `int`, got `str`"),
        ({"FAAS_LOG_FORMAT": "xml"}, "FAAS_LOG_FORMAT: Invalid enum value 'xml'"),
        ({"FAAS_LOG_LEVEL": "loud"}, "FAAS_LOG_LEVEL: Invalid enum value 'loud'"),
        ({"FAAS_MAX_ATTEMPTS": "0"}, "FAAS_MAX_ATTEMPTS: must be greater than 0"),
        ({"FAAS_HTTP_WORKERS": "0"}, "FAAS_HTTP_WORKERS: must be greater than 0"),
        ({"FAAS_MAX_CODE_BYTES": "-1"}, "FAAS_MAX_CODE_BYTES: must be greater than 0"),
        ({"FAAS_EXECUTOR_SLOTS": "-1"}, "FAAS_EXECUTOR_SLOTS: must not be negative"),
        (
            {"FAAS_DEFAULT_TIMEOUT_MS": "70000"},
            "FAAS_DEFAULT_TIMEOUT_MS: exceeds FAAS_MAX_TIMEOUT_MS",
        ),
        (
            {"FAAS_DEFAULT_MEMORY_MB": "2048"},
            "FAAS_DEFAULT_MEMORY_MB: exceeds FAAS_MAX_MEMORY_MB",
        ),
    ],
)
def test_a_bad_value_raises_settings_error_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)

    assert str(caught.value) == message


@pytest.mark.parametrize("variable", ["FAAS_HTTP_PORT", "FAAS_METRICS_PORT"])
def test_a_port_out_of_range_raises_settings_error(variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({variable: "65536"})


def test_unknown_faas_variables_and_other_variables_are_ignored() -> None:
    settings = load_settings(
        {"FAAS_NO_SUCH_SETTING": "x", "FAAS_": "y", "HTTP_PORT": "1", "PATH": "/bin"}
    )

    assert settings == Settings()
