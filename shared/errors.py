"""Errors raised by the shared package.

JetfaasError
├── SettingsError            a FAAS_* variable is missing or malformed
├── CodeError                function code does not compile
└── NatsUnavailableError     NATS could not be reached or set up
"""


class JetfaasError(Exception):
    """Root of every error jetfaas raises on purpose."""


class SettingsError(JetfaasError):
    """A configuration variable is missing or has a bad value."""


class CodeError(JetfaasError):
    """Function code that cannot be compiled; ``line`` is in the user's numbering."""

    def __init__(self, message: str, *, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class NatsUnavailableError(JetfaasError):
    """NATS could not be reached, or its streams and buckets could not be set up."""
