"""``python -m executors``: run one executor."""

import sys

from executors.service import run
from shared.entrypoint import serve

if __name__ == "__main__":
    sys.exit(serve("executor", run))
