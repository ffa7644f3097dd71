"""Request and response bodies of the HTTP API."""

from typing import Literal

import msgspec

from shared.models import Function


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    """Body of register and login."""

    username: str
    password: str


class FunctionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /functions``; ``user``, when given, must be the caller."""

    code: str
    user: str | None = None
    name: str | None = None
    runtime: Literal["python"] = "python"
    timeout_ms: int | None = None
    memory_mb: int | None = None


class FunctionUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``PUT /functions/{id}``: the fields to change."""

    code: str | None = None
    name: str | None = None
    timeout_ms: int | None = None
    memory_mb: int | None = None


class ExecuteRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /functions/{id}/execute``: any JSON value as input."""

    input: msgspec.Raw


class FunctionOut(msgspec.Struct, kw_only=True):
    """A function as the API shows it; ``id`` and ``code`` first, as in the original."""

    id: int
    code: str
    name: str
    owner: str
    runtime: str
    timeout_ms: int
    memory_mb: int
    version: int
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, function: Function) -> "FunctionOut":
        return cls(
            id=function.id,
            code=function.code,
            name=function.name,
            owner=function.owner,
            runtime=function.runtime,
            timeout_ms=function.timeout_ms,
            memory_mb=function.memory_mb,
            version=function.version,
            created_at=function.created_at,
            updated_at=function.updated_at,
        )


credentials_decoder = msgspec.json.Decoder(Credentials)
function_create_decoder = msgspec.json.Decoder(FunctionCreate)
function_update_decoder = msgspec.json.Decoder(FunctionUpdate)
execute_decoder = msgspec.json.Decoder(ExecuteRequest)
