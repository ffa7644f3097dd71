"""Function definitions: the ``/functions`` handlers and the bucket behind them."""

import time
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.handlers import HTTPRouteHandler
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from gateway_api.auth import TokenService
from gateway_api.bodies import decode_body
from gateway_api.errors import (
    ForbiddenError,
    InvalidCodeError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
)
from gateway_api.responses import encode, json_response
from gateway_api.schemas import (
    FunctionCreate,
    FunctionOut,
    FunctionUpdate,
    function_create_decoder,
    function_update_decoder,
)
from shared import names
from shared.catalog import FunctionCatalog
from shared.code import check_code
from shared.errors import CodeError
from shared.models import Function
from shared.settings import Settings

DELETED = "Función eliminada"
# The original answers this one without a space after the colon.
DELETED_BODY = f'{{"message":"{DELETED}"}}'.encode()
MIN_MEMORY_MB = 32
MAX_NAME_LENGTH = 128


class FunctionStore:
    """Definitions in the ``functions`` bucket; ids from the ``FUNCTION_IDS`` stream."""

    def __init__(self, js: JetStreamContext, kv: KeyValue, catalog: FunctionCatalog):
        self._js = js
        self._kv = kv
        self.catalog = catalog

    async def next_id(self) -> int:
        """The stream's sequence grows by one per publish, with no lock to hold."""
        ack = await self._js.publish(names.FUNCTION_IDS_SUBJECT, b"")
        return int(ack.seq)

    async def save(self, function: Function) -> None:
        await self._kv.put(str(function.id), msgspec.json.encode(function))
        self.catalog.remember(function)

    async def remove(self, function_id: int) -> None:
        await self._kv.delete(str(function_id))
        self.catalog.forget(function_id)

    def owned(self, function_id: str, owner: str) -> Function:
        """The caller's function with this id.

        Raises:
            InvalidRequestError: for an id that is not a positive integer.
            NotFoundError: for an unknown id or another user's function alike.
        """
        if (
            not (function_id.isascii() and function_id.isdigit())
            or int(function_id) < 1
        ):
            raise InvalidRequestError(
                "El id de la función debe ser un entero positivo", code="invalid_id"
            )
        function = self.catalog.get(int(function_id))
        if function is None or function.owner != owner:
            raise NotFoundError("Función no encontrada", code="function_not_found")
        return function


class FunctionRules:
    """Limits a definition must respect, from the operator's settings."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def check_code(self, code: str) -> None:
        limit = self._settings.max_code_bytes
        if len(code.encode()) > limit:
            raise PayloadTooLargeError(
                f"El código supera el límite de {limit} bytes", code="code_too_large"
            )
        if not code.strip():
            raise InvalidCodeError("El código está vacío")
        try:
            check_code(code)
        except CodeError as exc:
            raise InvalidCodeError(f"Error de sintaxis: {exc.message}") from exc

    def timeout_ms(self, value: int | None, current: int | None = None) -> int:
        if value is None:
            return current or self._settings.default_timeout_ms
        limit = self._settings.max_timeout_ms
        if not 1 <= value <= limit:
            raise InvalidRequestError(
                f"timeout_ms debe estar entre 1 y {limit}", code="invalid_timeout"
            )
        return value

    def memory_mb(self, value: int | None, current: int | None = None) -> int:
        if value is None:
            return current or self._settings.default_memory_mb
        limit = self._settings.max_memory_mb
        if not MIN_MEMORY_MB <= value <= limit:
            raise InvalidRequestError(
                f"memory_mb debe estar entre {MIN_MEMORY_MB} y {limit}",
                code="invalid_memory",
            )
        return value

    def name(self, value: str | None, function_id: int) -> str:
        if value is None:
            return f"function-{function_id}"
        if not 1 <= len(value) <= MAX_NAME_LENGTH:
            raise InvalidRequestError(
                f"name debe tener de 1 a {MAX_NAME_LENGTH} caracteres",
                code="invalid_name",
            )
        return value


def function_routes(
    store: FunctionStore, rules: FunctionRules, tokens: TokenService
) -> list[HTTPRouteHandler]:
    """The ``/functions`` handlers, bound to their store, rules and token service."""

    def caller(request: Request[Any, Any, Any]) -> str:
        return tokens.user_from_header(request.headers.get("authorization"))

    @post("/functions", status_code=201, summary="Register a function")
    async def create_function(request: Request[Any, Any, Any]) -> Response[bytes]:
        owner = caller(request)
        body: FunctionCreate = await decode_body(request, function_create_decoder)
        if body.user is not None and body.user != owner:
            raise ForbiddenError(
                "No puede registrar funciones para otro usuario", code="wrong_user"
            )
        rules.check_code(body.code)
        timeout_ms = rules.timeout_ms(body.timeout_ms)
        memory_mb = rules.memory_mb(body.memory_mb)

        function_id = await store.next_id()
        now = time.time()
        function = Function(
            id=function_id,
            owner=owner,
            name=rules.name(body.name, function_id),
            runtime=body.runtime,
            code=body.code,
            timeout_ms=timeout_ms,
            memory_mb=memory_mb,
            created_at=now,
            updated_at=now,
        )
        await store.save(function)
        return json_response(encode(FunctionOut.of(function)), 201)

    @get("/functions", summary="List the caller's functions")
    async def list_functions(request: Request[Any, Any, Any]) -> Response[bytes]:
        owned = store.catalog.owned_by(caller(request))
        return json_response(encode([FunctionOut.of(f) for f in owned]))

    @get("/functions/{function_id:str}", summary="Read a function")
    async def read_function(
        request: Request[Any, Any, Any], function_id: str
    ) -> Response[bytes]:
        function = store.owned(function_id, caller(request))
        return json_response(encode(FunctionOut.of(function)))

    @put("/functions/{function_id:str}", summary="Change a function")
    async def update_function(
        request: Request[Any, Any, Any], function_id: str
    ) -> Response[bytes]:
        current = store.owned(function_id, caller(request))
        body: FunctionUpdate = await decode_body(request, function_update_decoder)
        if body.code is not None:
            rules.check_code(body.code)

        function = msgspec.structs.replace(
            current,
            code=current.code if body.code is None else body.code,
            name=current.name
            if body.name is None
            else rules.name(body.name, current.id),
            timeout_ms=rules.timeout_ms(body.timeout_ms, current.timeout_ms),
            memory_mb=rules.memory_mb(body.memory_mb, current.memory_mb),
            updated_at=time.time(),
            version=current.version + 1,
        )
        await store.save(function)
        return json_response(encode(FunctionOut.of(function)))

    @delete(
        ["/functions/{function_id:str}", "/functions/{function_id:str}/delete"],
        status_code=200,
        summary="Delete a function",
    )
    async def delete_function(
        request: Request[Any, Any, Any], function_id: str
    ) -> Response[bytes]:
        function = store.owned(function_id, caller(request))
        await store.remove(function.id)
        return json_response(DELETED_BODY)

    return [
        create_function,
        list_functions,
        read_function,
        update_function,
        delete_function,
    ]
