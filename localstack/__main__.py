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
    try:
        settings = load_settings()
    except JetfaasError as exc:
        sys.stderr.write(f"localstack: {exc}\n")
        return 2

    configure_logging(settings, service="localstack")
    log = structlog.get_logger("localstack")
    for name, address in addresses(settings):
        log.info("listening", part=name, address=address)

    asyncio.run(Supervisor(children(settings, os.environ)).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
