"""Liveness, readiness and the Prometheus exposition."""

from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from nats.aio.client import Client
from nats.js import JetStreamContext

from gateway_api.responses import encode, error_body, json_response
from shared import metrics, names


def health_routes(nc: Client, js: JetStreamContext) -> list[HTTPRouteHandler]:
    @get("/healthz", summary="The process is alive")
    async def healthz() -> Response[bytes]:
        return json_response(encode({"status": "ok"}))

    @get("/readyz", summary="NATS is connected and the invocation stream exists")
    async def readyz() -> Response[bytes]:
        if not nc.is_connected:
            return json_response(error_body("unavailable", "NATS desconectado"), 503)
        try:
            await js.stream_info(names.INVOCATIONS_STREAM)
        except Exception:
            body = error_body("unavailable", "El stream de invocaciones no responde")
            return json_response(body, 503)
        return json_response(encode({"status": "ready"}))

    @get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    return [healthz, readyz, metrics_endpoint]
