"""The request id APISIX sets (or one of our own), carried into logs and invocations."""

import itertools
import os
import re
from contextvars import ContextVar

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
# Ids from outside end up in logs and NATS headers: keep them short and plain.
_ACCEPTED = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str] = ContextVar("request_id", default="")
# Ids made here: a random prefix per process and a counter, unique without
# asking the kernel for randomness on every request.
_PREFIX = os.urandom(8).hex()
_counter = itertools.count(1)


def current_request_id() -> str:
    """The id of the request being served, or "" outside of one."""
    return _current.get()


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Bind the request id to logs and echo it in the response's X-Request-Id."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        request_id = _request_id(scope)
        _current.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        echoed = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _ACCEPTED.fullmatch(value):
            return value.decode()
    return f"{_PREFIX}{next(_counter):016x}"
