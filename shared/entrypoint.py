"""The ``python -m`` entry of a service: settings, logging, event loop, exit code."""

import sys
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
import uvloop

from shared.errors import JetfaasError
from shared.logs import configure_logging
from shared.settings import Settings, load_settings

EXIT_BAD_SETTINGS = 2
EXIT_FAILED = 1


def serve(service: str, run: Callable[[Settings], Coroutine[Any, Any, None]]) -> int:
    """Run ``run(settings)`` on uvloop; a bad setting exits 2, a failure 1."""
    try:
        settings = load_settings()
    except JetfaasError as exc:
        sys.stderr.write(f"{service}: {exc}\n")
        return EXIT_BAD_SETTINGS

    configure_logging(settings, service=service)
    try:
        uvloop.run(run(settings))
    except JetfaasError as exc:
        structlog.get_logger(__name__).error("service_failed", error=str(exc))
        return EXIT_FAILED
    return 0
