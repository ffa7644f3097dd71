"""The gateway's Prometheus metrics, created once, and the middleware feeding them."""

import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import LATENCY_BUCKETS

HTTP_REQUESTS = Counter(
    "faas_http_requests_total",
    "HTTP requests answered by the gateway.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "faas_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
INVOCATIONS = Counter(
    "faas_invocations_total",
    "Invocations by mode and outcome (succeeded or the error code).",
    ["mode", "outcome"],
)
INVOCATION_DURATION = Histogram(
    "faas_invocation_duration_seconds",
    "From publishing a synchronous invocation to receiving its answer.",
    buckets=LATENCY_BUCKETS,
)
INVOCATIONS_IN_FLIGHT = Gauge(
    "faas_invocations_in_flight",
    "Synchronous invocations waiting for their answer.",
)


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Count and time every HTTP request by its route template, never its raw path."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_record)
        finally:
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)

    return middleware
