"""JSON responses in the original contract's style, and the error handlers.

The original walkthrough prints bodies as ``{"key": value}``, with a space after
each separator; every body the gateway writes follows that style.
"""

import json
from typing import Any

import msgspec
import nats.errors
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from gateway_api.errors import ApiError

log = structlog.get_logger(__name__)

JSON = "application/json"

_HTTP_CODES = {
    400: ("invalid_request", "Solicitud inválida"),
    401: ("unauthorized", "No autorizado"),
    404: ("not_found", "Ruta no encontrada"),
    405: ("method_not_allowed", "Método no permitido"),
    413: ("payload_too_large", "El cuerpo de la solicitud es demasiado grande"),
    415: ("unsupported_media_type", "Tipo de contenido no soportado"),
}


def encode(value: Any) -> bytes:
    """Encode ``value`` (builtins or msgspec structs) in the contract's style."""
    return json.dumps(msgspec.to_builtins(value), ensure_ascii=False).encode()


def json_response(
    body: bytes, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(body, status_code=status_code, media_type=JSON, headers=headers)


def error_body(code: str, message: str) -> bytes:
    return encode({"error": code, "message": message})


def handle_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return json_response(
        error_body(exc.error_code, exc.message), exc.status_code, exc.headers
    )


def handle_http_exception(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[bytes]:
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", exc.detail))
    if isinstance(exc, ValidationException):
        message = _validation_message(exc)
    elif exc.status_code == 404 and exc.detail != "Not Found":
        message = exc.detail
    return json_response(error_body(code, message), exc.status_code, exc.headers)


def handle_nats_error(
    request: Request[Any, Any, Any], exc: nats.errors.Error
) -> Response[bytes]:
    """NATS down or JetStream without a leader: a moment's outage, not a bug."""
    log.warning("request_nats_unavailable", path=request.url.path, error=repr(exc))
    body = error_body("unavailable", "El sistema de mensajería no está disponible")
    return json_response(body, 503, {"Retry-After": "1"})


def handle_unexpected(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[bytes]:
    log.exception("request_failed", path=request.url.path)
    body = error_body("internal_error", "Error interno del servidor")
    return json_response(body, 500)


def _validation_message(exc: ValidationException) -> str:
    details = exc.extra if isinstance(exc.extra, list) else []
    reasons = [
        str(item.get("message", "")) for item in details if isinstance(item, dict)
    ]
    reasons = [reason for reason in reasons if reason]
    if not reasons:
        return "Cuerpo JSON inválido"
    return "Cuerpo inválido: " + "; ".join(reasons)
