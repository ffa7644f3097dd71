"""One measured point of a benchmark, and percentiles of latency samples."""

import statistics
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Point:
    """Requests answered in a timed window at one concurrency."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        """Answered requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rate": round(self.rate, 1)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Point":
        return cls(
            requests=int(data["requests"]),
            seconds=float(data["seconds"]),
            errors=int(data["errors"]),
            p50_ms=float(data["p50_ms"]),
            p99_ms=float(data["p99_ms"]),
        )


def percentiles_ms(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of samples in seconds, in milliseconds."""
    if len(samples) < 2:
        only = samples[0] * 1e3 if samples else 0.0
        return only, only
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1e3, cuts[98] * 1e3


def point_from_samples(samples: list[float], seconds: float, errors: int) -> Point:
    p50, p99 = percentiles_ms(samples)
    return Point(len(samples), seconds, errors, p50, p99)
