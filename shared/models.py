"""Wire and storage models: what goes into the KV buckets and across NATS."""

import time
from typing import Literal

import msgspec

NULL = msgspec.Raw(b"null")

InvocationMode = Literal["sync", "async"]
InvocationStatus = Literal["queued", "running", "succeeded", "failed", "timed_out"]


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A registered user, stored in the ``users`` bucket under its name."""

    username: str
    password_hash: str
    created_at: float


class Function(msgspec.Struct, frozen=True, kw_only=True):
    """A function definition, stored in the ``functions`` bucket under its id."""

    id: int
    owner: str
    name: str
    runtime: str = "python"
    code: str
    timeout_ms: int
    memory_mb: int
    created_at: float
    updated_at: float
    version: int = 1
    """Grows on every update so that warm workers of older code are retired."""


class Invocation(msgspec.Struct, frozen=True, kw_only=True):
    """One call of a function, as queued on the ``INVOCATIONS`` stream."""

    id: str
    function_id: int
    input: msgspec.Raw
    mode: InvocationMode = "sync"
    submitted_at: float = msgspec.field(default_factory=time.time)
    owner: str = ""
    capture_logs: bool = False
    request_id: str = ""
    """The HTTP request's id, so that executor logs join the gateway's."""


class InvocationResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The outcome an executor sends back, and keeps for asynchronous calls.

    ``error`` is a stable code (``function_error``, ``timeout``...) when the
    status is not ``succeeded``; ``result`` holds the function's JSON value.
    """

    id: str
    status: InvocationStatus
    result: msgspec.Raw = NULL
    error: str | None = None
    message: str | None = None
    logs: str | None = None
    duration_ms: float = 0.0
    attempts: int = 1
    function_id: int = 0
    owner: str = ""
    submitted_at: float = 0.0
    finished_at: float = 0.0


invocation_encoder = msgspec.json.Encoder()
invocation_decoder = msgspec.json.Decoder(Invocation)
result_decoder = msgspec.json.Decoder(InvocationResult)
function_decoder = msgspec.json.Decoder(Function)
user_decoder = msgspec.json.Decoder(User)
