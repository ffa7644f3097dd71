"""Prometheus helpers shared by the services: the exposition and its content type."""

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.registry import CollectorRegistry

# Without its charset: Litestar appends one to every text response.
CONTENT_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The current value of every metric in the text format."""
    return generate_latest(registry)
