"""The gateway's composition root: NATS, stores and handlers wired into one app."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats.errors
from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from nats.aio.client import Client
from nats.js import JetStreamContext

from gateway_api.auth import TokenService
from gateway_api.errors import ApiError
from gateway_api.execution import execution_routes
from gateway_api.functions import FunctionRules, FunctionStore, function_routes
from gateway_api.health import health_routes
from gateway_api.invocations import Invoker
from gateway_api.metrics import metrics_middleware
from gateway_api.request_ids import request_id_middleware
from gateway_api.responses import (
    handle_api_error,
    handle_http_exception,
    handle_nats_error,
    handle_unexpected,
)
from gateway_api.users import UserStore, user_routes
from shared import names
from shared.catalog import FunctionCatalog
from shared.connection import connect, ensure_resources
from shared.errors import SettingsError
from shared.settings import Settings


@dataclass(frozen=True)
class Gateway:
    """The connected parts the handlers need."""

    nc: Client
    js: JetStreamContext
    tokens: TokenService
    users: UserStore
    functions: FunctionStore
    invoker: Invoker


@contextlib.asynccontextmanager
async def open_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    """Connect to NATS, set up JetStream and start the catalog and the inbox."""
    if not settings.jwt_secret:
        raise SettingsError("FAAS_JWT_SECRET: required by the gateway")

    nc = await connect(settings, name="gateway")
    try:
        js = nc.jetstream()
        await ensure_resources(js, settings)
        functions_kv = await js.key_value(names.FUNCTIONS_BUCKET)
        catalog = FunctionCatalog(functions_kv)
        await catalog.start()
        invoker = Invoker(
            nc,
            js,
            await js.key_value(names.INVOCATIONS_BUCKET),
            settings,
            instance=uuid.uuid4().hex[:12],
        )
        await invoker.start()
        try:
            yield Gateway(
                nc=nc,
                js=js,
                tokens=TokenService(
                    settings.jwt_secret,
                    issuer=settings.jwt_issuer,
                    ttl_s=settings.jwt_ttl_s,
                ),
                users=UserStore(await js.key_value(names.USERS_BUCKET)),
                functions=FunctionStore(js, functions_kv, catalog),
                invoker=invoker,
            )
        finally:
            await invoker.close()
            await catalog.close()
    finally:
        await nc.drain()


def create_app(settings: Settings, gateway: Gateway) -> Litestar:
    """The Litestar app serving the HTTP API over ``gateway``."""
    rules = FunctionRules(settings)
    return Litestar(
        route_handlers=[
            *user_routes(gateway.users, gateway.tokens),
            *function_routes(gateway.functions, rules, gateway.tokens),
            *execution_routes(gateway.functions, gateway.invoker, gateway.tokens),
            *health_routes(gateway.nc, gateway.js),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            nats.errors.Error: handle_nats_error,
            Exception: handle_unexpected,
        },
        middleware=[request_id_middleware, metrics_middleware],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="jetfaas", version="0.1.0"),
        debug=False,
        logging_config=None,
    )
