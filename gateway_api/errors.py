"""Errors the gateway answers with, and the one JSON shape they take.

ApiError                         every error has a status and a stable code
├── InvalidRequestError          400 malformed JSON, wrong types, broken rules
├── InvalidCodeError             400 function code that does not compile
├── UnauthorizedError            401 missing, malformed, forged or expired token
├── ForbiddenError               403 acting for another user
├── NotFoundError                404 unknown (or somebody else's) function
├── ConflictError                409 username taken
├── PayloadTooLargeError         413 body, code or result over its limit
├── FunctionFailedError          422 the function raised or returned no JSON
├── QueueFullError               503 the invocation queue is full
├── ServiceUnavailableError      503 NATS is not reachable
└── GatewayTimeoutError          504 the function or the queue took too long
"""

from typing import ClassVar


class ApiError(Exception):
    """An error with an HTTP status and a stable machine-readable code."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = code or self.code
        self.headers = headers or {}


class InvalidRequestError(ApiError):
    status_code = 400
    code = "invalid_request"


class InvalidCodeError(ApiError):
    status_code = 400
    code = "invalid_code"


class UnauthorizedError(ApiError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(ApiError):
    status_code = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status_code = 404
    code = "not_found"


class ConflictError(ApiError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(ApiError):
    status_code = 413
    code = "payload_too_large"


class FunctionFailedError(ApiError):
    status_code = 422
    code = "function_error"


class TooManyInvocationsError(ApiError):
    status_code = 429
    code = "concurrency_limit"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class QueueFullError(ApiError):
    status_code = 503
    code = "queue_full"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class ServiceUnavailableError(ApiError):
    status_code = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class GatewayTimeoutError(ApiError):
    status_code = 504
    code = "timeout"
