"""Reading request bodies into typed structs, with errors that say what is wrong."""

from typing import Any, TypeVar

import msgspec
from litestar import Request

from gateway_api.errors import InvalidRequestError

T = TypeVar("T")


async def decode_body(
    request: Request[Any, Any, Any], decoder: msgspec.json.Decoder[T]
) -> T:
    """Decode the body; its size is already bounded by the app's body limit.

    Raises:
        InvalidRequestError: for an empty or malformed body or one of the wrong shape.
    """
    body = await request.body()
    if not body.strip():
        raise InvalidRequestError("Falta el cuerpo JSON", code="invalid_json")

    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(
            f"Cuerpo inválido: {exc}", code="invalid_body"
        ) from exc
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(
            f"JSON mal formado: {exc}", code="invalid_json"
        ) from exc
