"""Serving the gateway app with uvicorn on the configured address."""

import uvicorn

from gateway_api.app import create_app, open_gateway
from shared.settings import Settings


async def run(settings: Settings) -> None:
    """Serve until a signal stops uvicorn, then drain NATS."""
    async with open_gateway(settings) as gateway:
        config = uvicorn.Config(
            create_app(settings, gateway),
            host=settings.http_host,
            port=settings.http_port,
            loop="none",
            http="httptools",
            access_log=False,
            log_config=None,
            server_header=False,
        )
        await uvicorn.Server(config).serve()
