"""``python -m localstack`` (``make up``): the whole platform in the foreground."""

import asyncio
import os
import sys

import structlog

from localstack.stack import addresses, children
from localstack.supervisor import Supervisor
from shared.errors import JetfaasError
from shared.logs import configure_logging
from shared.settings import load_settings


def main() -> int:
    environ = dict(os.environ)
    # A person at a terminal reads console lines; anything else gets JSON.
    if "FAAS_LOG_FORMAT" not in environ and sys.stderr.isatty():
        environ["FAAS_LOG_FORMAT"] = "console"

    try:
        settings = load_settings(environ)
    except JetfaasError as exc:
        sys.stderr.write(f"localstack: {exc}\n")
        return 2

    configure_logging(settings, service="localstack")
    log = structlog.get_logger("localstack")
    for name, address in addresses(settings):
        log.info("listening", part=name, address=address)

    asyncio.run(Supervisor(children(settings, environ)).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
