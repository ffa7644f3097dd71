"""``python -m gateway_api``: run the HTTP gateway."""

import sys

from gateway_api.server import run
from shared.entrypoint import serve

if __name__ == "__main__":
    sys.exit(serve("gateway", run))
