"""Errors of the sandbox; ``Sandbox.run`` turns each into a ``RunOutcome`` code.

JetfaasError                      (shared.errors)
└── SandboxError
    ├── SandboxUnavailableError   the zygote is gone or could not fork a worker
    ├── WorkerCrashedError        a worker died or broke the frame protocol
    └── FunctionFailedError       the user's code failed; ``code`` says how
        └── ResultTooLargeError   a result frame announced more than allowed
"""

from executors.sandbox.outcome import ErrorCode
from shared.errors import JetfaasError


class SandboxError(JetfaasError):
    """Root of the sandbox's errors; ``code`` is the stable code callers see."""

    code: ErrorCode = "sandbox_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SandboxUnavailableError(SandboxError):
    """No worker could be had: the zygote died, refused, or was never started."""


class WorkerCrashedError(SandboxError):
    """A worker exited, was killed by a signal, or wrote frames out of turn."""

    code = "worker_crashed"


class WorkerExitedError(WorkerCrashedError):
    """A worker's channel closed under a call; its exit status says why."""


class FunctionFailedError(SandboxError):
    """The function raised, returned something unusable, or failed to load.

    ``code`` is ``function_error``, ``invalid_result`` or ``result_too_large``.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class ResultTooLargeError(FunctionFailedError):
    """A result frame's header announced more bytes than ``max_result_bytes``."""

    def __init__(self, message: str) -> None:
        super().__init__("result_too_large", message)
