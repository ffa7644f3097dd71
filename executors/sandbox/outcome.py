"""What ``Sandbox.run`` returns, and the counters ``Sandbox.stats`` reports."""

from typing import Literal

import msgspec

ErrorCode = Literal[
    "function_error",
    "invalid_result",
    "result_too_large",
    "timeout",
    "worker_crashed",
    "sandbox_unavailable",
]


class RunOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """The result of one call, whatever the user's code did."""

    ok: bool
    result: bytes = b""
    """JSON encoding of the handler's return value; empty unless ``ok``."""

    error: ErrorCode | None = None
    message: str | None = None
    """Names the limit that was hit, or ``<ExceptionType>: <message>``."""

    logs: str | None = None
    """Captured stdout and stderr, bounded, when the caller asked for them."""

    duration_s: float = 0.0


class SandboxStats(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of the worker pool."""

    warm_workers: int
    """Workers loaded with a function, idle or busy."""

    spare_workers: int
    """Clean workers forked ahead of need, not yet given a function."""

    cold_starts: int
    recycled: int
    """Workers retired: evicted, worn out, killed after a failure or timeout."""

    memory_bytes: int
    """Proportional (PSS) or, when unreadable, resident memory of all workers."""
