"""The execute and invocation-status handlers, and how an outcome becomes a response."""

import json
from typing import Any, Literal

import structlog
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

from gateway_api.auth import TokenService
from gateway_api.bodies import decode_body
from gateway_api.errors import InvalidRequestError
from gateway_api.functions import FunctionStore
from gateway_api.invocations import Invoker
from gateway_api.metrics import INVOCATIONS
from gateway_api.responses import encode, error_body, json_response
from gateway_api.schemas import ExecuteRequest, execute_decoder
from shared.models import InvocationResult

log = structlog.get_logger(__name__)

# HTTP status of each error code an executor can answer with.
ERROR_STATUS = {
    "function_error": 422,
    "invalid_result": 422,
    "worker_crashed": 422,
    "attempts_exhausted": 422,
    "result_too_large": 413,
    "output_too_large": 413,
    "timeout": 504,
    "deadline_exceeded": 504,
    "expired": 504,
    "function_not_found": 404,
    "sandbox_unavailable": 503,
}


def invocation_response(
    outcome: InvocationResult, *, with_logs: bool
) -> Response[bytes]:
    """200 with ``{"result": ...}``, or the error's status with the one error shape."""
    logs = b""
    if with_logs:
        logs = (
            b', "logs": ' + json.dumps(outcome.logs or "", ensure_ascii=False).encode()
        )

    if outcome.status == "succeeded":
        return json_response(b'{"result": ' + bytes(outcome.result) + logs + b"}")

    code = outcome.error or "function_error"
    body = error_body(code, outcome.message or code)
    if logs:
        body = body[:-1] + logs + b"}"
    return json_response(body, ERROR_STATUS.get(code, 500))


def execution_routes(
    store: FunctionStore, invoker: Invoker, tokens: TokenService
) -> list[HTTPRouteHandler]:
    """The execute and ``/invocations`` handlers."""

    @post(
        "/functions/{function_id:str}/execute",
        status_code=200,
        summary="Execute a function",
        description=(
            'Body {"input": <any JSON>}. mode=async answers 202 with an invocation '
            "id to poll at /invocations/{id}; logs=true adds the printed output."
        ),
    )
    async def execute(
        request: Request[Any, Any, Any],
        function_id: str,
        mode: Literal["sync", "async"] = "sync",
        logs: bool = False,
    ) -> Response[bytes]:
        owner = tokens.user_from_header(request.headers.get("authorization"))
        function = store.owned(function_id, owner)
        body: ExecuteRequest = await decode_body(request, execute_decoder)
        structlog.contextvars.bind_contextvars(function_id=function.id, user=owner)

        if mode == "async":
            record = await invoker.submit(function, body.input, capture_logs=logs)
            INVOCATIONS.labels("async", "queued").inc()
            accepted = {"invocation_id": record.id, "status": record.status}
            return json_response(encode(accepted), 202)

        outcome = await invoker.call(function, body.input, capture_logs=logs)
        INVOCATIONS.labels("sync", outcome.error or outcome.status).inc()
        log.debug(
            "invocation_answered", invocation_id=outcome.id, status=outcome.status
        )
        return invocation_response(outcome, with_logs=logs)

    @get("/invocations/{invocation_id:str}", summary="Status of an async invocation")
    async def read_invocation(
        request: Request[Any, Any, Any], invocation_id: str
    ) -> Response[bytes]:
        owner = tokens.user_from_header(request.headers.get("authorization"))
        if not invocation_id.isalnum() or len(invocation_id) > 64:
            raise InvalidRequestError("Id de invocación inválido", code="invalid_id")
        record = await invoker.record(invocation_id, owner)

        shown: dict[str, Any] = {"id": record.id, "status": record.status}
        if record.status == "succeeded":
            shown["result"] = json.loads(bytes(record.result))
        if record.error is not None:
            shown["error"] = record.error
            shown["message"] = record.message
        if record.logs is not None:
            shown["logs"] = record.logs
        shown["function_id"] = record.function_id
        shown["submitted_at"] = record.submitted_at
        if record.finished_at:
            shown["finished_at"] = record.finished_at
            shown["duration_ms"] = record.duration_ms
        return json_response(encode(shown))

    return [execute, read_invocation]
