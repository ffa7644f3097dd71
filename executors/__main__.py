"""``python -m executors``: run one executor."""

import sys

import structlog
import uvloop

from executors.service import run
from shared.errors import JetfaasError
from shared.logs import configure_logging
from shared.settings import load_settings


def main() -> int:
    try:
        settings = load_settings()
    except JetfaasError as exc:
        sys.stderr.write(f"executor: {exc}\n")
        return 2

    configure_logging(settings, service="executor")
    try:
        uvloop.run(run(settings))
    except JetfaasError as exc:
        structlog.get_logger(__name__).error("executor_failed", error=str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
