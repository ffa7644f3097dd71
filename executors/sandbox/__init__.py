"""Running untrusted function code: hardened workers forked from a clean zygote."""

from executors.sandbox.errors import (
    FunctionFailedError,
    SandboxError,
    SandboxUnavailableError,
    WorkerCrashedError,
)
from executors.sandbox.limits import SandboxLimits
from executors.sandbox.outcome import ErrorCode, RunOutcome, SandboxStats
from executors.sandbox.sandbox import Sandbox

__all__ = [
    "ErrorCode",
    "FunctionFailedError",
    "RunOutcome",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxStats",
    "SandboxUnavailableError",
    "WorkerCrashedError",
]
